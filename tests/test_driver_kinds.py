"""Every driver the registry builds, real or simulated, is of the kind drivers/base.py declares
for it, so the runtime can ask it by kind (`isinstance`), never by `hasattr`."""

import queue

import pytest

from drivers import registry
from drivers.base import Driver, Printer, Reader, Scanner, SecurityReader
from drivers.sim.devices import KINDS

SOURCES = {
    "evdev:0c2e:0b61": Scanner,
    "serial:/dev/ttyUSB0": Scanner,
    "serial:/dev/ttyUSB0?role=card": Scanner,
    "3m810:/dev/ttyUSB0": SecurityReader,
    "trf7970a:/dev/ttyUSB0": SecurityReader,
    "escpos:/dev/ttyUSB0": Printer,
    "sim:scanner": Scanner,
    "sim:3m810": SecurityReader,
    "sim:trf7970a": SecurityReader,
    "sim:serial-scanner": Scanner,
    "sim:card": Scanner,
    "sim:evdev-scanner": Scanner,
    "sim:printer": Printer,
}
KIND_CLASSES = (Scanner, Reader, Printer)


def test_every_scheme_and_simulator_is_listed():
    assert {text.split(":")[0] for text in SOURCES} == set(registry._BUILDERS)
    assert {text[4:] for text in SOURCES if text.startswith("sim:")} == set(KINDS)


@pytest.mark.parametrize("text", SOURCES)
def test_each_driver_is_of_its_declared_kind(text):
    driver = registry.open_source("x", text, queue.Queue())  # built, not started
    assert isinstance(driver, SOURCES[text])
    others = [kind for kind in KIND_CLASSES if not issubclass(SOURCES[text], kind)]
    assert not any(isinstance(driver, kind) for kind in others)


def test_a_device_that_cannot_be_built_is_of_no_kind():
    driver = registry.UnavailableDriver("printer", "no such port", queue.Queue())
    assert isinstance(driver, Driver)
    assert not isinstance(driver, KIND_CLASSES)
