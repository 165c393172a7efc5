"""Staff PINs in tests: a hash the config accepts (the fewest iterations it allows), and a PIN
entered through the core's check, which the runtime runs on its PIN thread."""

from __future__ import annotations

import time

from kiosk.core import events as ev
from kiosk.core.pin import MIN_ITERATIONS, hash_pin, verify_pin


def staff_hash(pin: str) -> str:
    return hash_pin(pin, iterations=MIN_ITERATIONS)


def submit_pin(session, pin: str, now: float) -> list:
    """PinSubmitted, then the answer the runtime's PIN thread would give; all the effects."""
    effects = session.handle(ev.PinSubmitted(pin), now)
    for check in [e for e in effects if isinstance(e, ev.CheckPin)]:
        effects += session.handle(ev.PinChecked(check.token, verify_pin(check.pin,
                                                                        check.pin_hash)), now)
    return effects


def enter_pin(runtime, pin: str, timeout: float = 10.0) -> None:
    """Submit a PIN to a runtime and pump until its check answered."""
    runtime.send(ev.PinSubmitted(pin))
    deadline = time.monotonic() + timeout
    while runtime.view.pin_message == "checking":
        assert time.monotonic() < deadline, "the PIN check did not answer"
        time.sleep(0.01)
        runtime.pump()
