"""The demo's way into its simulated devices: the scanner the tray and keyboard scan through,
and the pad the tray places tags on. Kept here so the runtime never imports the simulators.

Called on whichever thread holds the runtime (the Kivy main thread in the app); the devices
themselves may be played from any thread.
"""

from __future__ import annotations

from collections.abc import Mapping

from drivers.base import Driver
from drivers.sim.devices import SimulatedReader
from drivers.sim.rfid_pad import SimPad
from drivers.sim.scanner import SimScanner


def sim_scanner(drivers: Mapping[str, Driver]) -> SimScanner | None:
    """The first simulated scanner (`sim:scanner`) among `drivers`, e.g. `runtime.drivers`."""
    return next((d for d in drivers.values() if isinstance(d, SimScanner)), None)


def sim_pad(drivers: Mapping[str, Driver]) -> SimPad | None:
    """The tags of the first simulated RFID pad (`sim:3m810`, `sim:trf7970a`)."""
    return next((d.pad for d in drivers.values() if isinstance(d, SimulatedReader)), None)
