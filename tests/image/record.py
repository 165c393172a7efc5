"""What the QEMU checks keep for people to read, in artifacts/i14/: each phase's time, written
as soon as the phase ends (a run cut short keeps what it measured), and what the kiosk said."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from tests.conftest import ARTIFACTS
from tests.system import phases
from tests.system.phases import phase

OUT = ARTIFACTS / "i14"


def phase_timer(prefix: str, file_name: str) -> Callable[[str], AbstractContextManager[None]]:
    """A `timed(name)` for one check: its phases are named `prefix + name` and listed in
    OUT/file_name."""

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        with phase(prefix + name):
            yield
        mine = {k: v for k, v in phases.TIMINGS.items() if k.startswith(prefix)}
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / file_name).write_text(
            "".join(f"{key:<80} {seconds:7.1f} s\n" for key, seconds in mine.items()))

    return timed


def save(name: str, text: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(text)
