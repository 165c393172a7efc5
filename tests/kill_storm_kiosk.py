"""A headless kiosk that lends and takes back books as fast as it can, for the kill storm
(tests/test_kill_storm.py), which SIGKILLs it at random and at the worst moments.

Run as `python -m tests.kill_storm_kiosk CONFIG SEED`. It prints "ready" once its runtime has
started (and handed whatever a kill left open to the reconciler), then one line per
transaction. It stops cleanly on SIGTERM (the last run, before the journal is compared).
"""

from __future__ import annotations

import random
import signal
import sys
import time

from drivers.events import BarcodeRead
from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.runtime import Runtime

CARD, PIN = "23520001234566", "1234"
POOL = tuple(f"3352100000{n:04d}" for n in range(20))  # items of the storm's own ILS data


def main(config_path: str, seed: str) -> int:
    runtime = Runtime(config_module.load(config_path))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    runtime.start()
    until(runtime, lambda: runtime.ils.online)
    print("ready", flush=True)
    rng = random.Random(seed)
    try:
        while not stopping:
            item = rng.choice(POOL)
            borrow(runtime, item)
            print(f"borrowed {item} {status(runtime)}", flush=True)
            finish(runtime)
            if stopping:
                break
            give_back(runtime, item)
            print(f"returned {item} {status(runtime)}", flush=True)
            finish(runtime)
    finally:
        until(runtime, lambda: not runtime.view.circulation.busy, timeout=10)
        runtime.close()
    return 0


def borrow(runtime: Runtime, item: str) -> None:
    runtime.send(ev.Start())
    runtime.send(ev.Navigate(Screen.BORROW))
    runtime.send(BarcodeRead("scanner", CARD, None, "patron"))
    until(runtime, lambda: runtime.view.circulation.step != "checking")
    if runtime.view.circulation.step == "pin":
        runtime.send(ev.PatronPinTyped(PIN))
        until(runtime, lambda: runtime.view.circulation.step != "checking")
    scan(runtime, item)


def give_back(runtime: Runtime, item: str) -> None:
    runtime.send(ev.Start())
    runtime.send(ev.Navigate(Screen.RETURN))
    scan(runtime, item)


def scan(runtime: Runtime, item: str) -> None:
    runtime.send(BarcodeRead("scanner", item, None, "item"))
    until(runtime, lambda: not runtime.view.circulation.busy)


def finish(runtime: Runtime) -> None:
    runtime.send(ev.FinishFlow())
    runtime.send(ev.EndSession())
    runtime.pump()


def status(runtime: Runtime) -> str:
    return ",".join(f"{line.status}:{line.reason}" for line in runtime.view.circulation.lines)


def until(runtime: Runtime, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"stuck: {condition}")
        runtime.pump()
        time.sleep(0.002)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
