"""Test parts for a kiosk runtime without a screen: the `[ils]` section that points it at a test
ILS, a started runtime with the demo's simulated scanner and pad, the main loop a test runs
until something has happened, and the PIN step."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.runtime import Runtime, SteerableClock
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer

SIM_DEVICES = ('[devices]\nscanner = "sim:scanner"\n'
               'rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"\n')


def ils_section(server: Sip2TestServer, via: tuple[str, int] | None = None) -> str:
    """`[ils]` for the test ILS `server`: its address (or a proxy's, `via`), login and charset,
    short timeouts."""
    host, port = via or server.address
    username, password = server.login or ("", "")
    return (f'[ils]\nhost = "{host}"\nport = {port}\nusername = "{username}"\n'
            f'password = "{password}"\ncharset = "{server.charset}"\ntimeout_s = 1.0\n'
            "retries = 1\n")


def started(tmp_path: Path, ils: str, more: str = "", devices: str = SIM_DEVICES) -> Runtime:
    """A runtime keeping its data in `tmp_path`, its `[ils]` section `ils` and `more` config,
    started, once the ILS answered and the pad reported."""
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n{ils}{more}{devices}', encoding="utf-8")
    runtime = Runtime(config_module.load(path), clock=SteerableClock())
    runtime.start()
    pump_until(runtime, lambda: runtime.ils.online and (
        "rfid" not in runtime.config.devices or "rfid" in runtime.view.devices))
    return runtime


def pump_until(runtime, condition, timeout: float = 15.0) -> None:
    """Pump the runtime as the app's clock would, until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        runtime.pump()
        time.sleep(0.02)


def identified(runtime, card: str, pins: IlsData | dict[str, str]) -> None:
    """After a card was presented: type the patron's PIN when the kiosk asks for it (the ILS
    reports whether a PIN is valid only when one is sent), until the patron is known."""
    pin_of = pins if isinstance(pins, dict) else {p.barcode: p.pin for p in pins.patrons.values()}
    asked = lambda: runtime.view.circulation.step == "pin"  # noqa: E731
    pump_until(runtime, lambda: asked() or runtime.view.screen not in (Screen.ATTRACT,
                                                                        Screen.IDENTIFY))
    if asked():
        runtime.send(ev.PatronPinTyped(pin_of[card]))
        pump_until(runtime, lambda: runtime.view.circulation.step != "checking")
