"""A kiosk's update tools faked at the lowest layer, a `kiosk.commands.Runner`: `rauc status`
answers recorded JSON (tests/rauc_status/), `fw_printenv -n BOOT_x_LEFT` the counter,
`systemctl show kiosk.service` the service's state; every call is recorded, and `sleep` moves
a fake clock, so a test asserts on what was run, never on time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.commands import CommandResult

STATUS_DIR = Path(__file__).resolve().parent / "rauc_status"


def recorded(name: str) -> str:
    return (STATUS_DIR / f"{name}.json").read_text(encoding="utf-8")


@dataclass
class FakeKiosk:
    status: str = field(default_factory=lambda: recorded("factory"))
    left: dict[str, int] = field(default_factory=lambda: {"A": 2, "B": 0})
    ready_after_s: float | None = 0.0  # None: never ready
    # What `kiosk run` says once ready (STATUS=): its own screens, or out of service and why.
    status_text: str = "in service"
    rauc_works: bool = True
    mark_good_works: bool = True
    bundle_version: str = "0.2.0"  # what `rauc info` reads from any bundle
    now: float = 0.0
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], *, input: str | None = None) -> CommandResult:
        argv = tuple(argv)
        self.calls.append(argv)
        match argv:
            case ("systemctl", "show", "kiosk.service", "-p", "ActiveState", "-p", "StatusText"):
                ready = self.ready_after_s is not None and self.now >= self.ready_after_s
                return CommandResult(0, f"ActiveState={'active' if ready else 'activating'}\n"
                                        f"StatusText={self.status_text if ready else 'starting'}\n")
            case ("rauc", "status", "--detailed", "--output-format=json"):
                if not self.rauc_works:
                    return CommandResult(1, "", "rauc status: error retrieving slot status via "
                                                "D-Bus: the name is not activatable")
                return CommandResult(0, self.status + "\n")
            case ("rauc", "status", "mark-good", "booted"):
                if not (self.rauc_works and self.mark_good_works):
                    return CommandResult(1, "", "rauc mark: failed to mark slot good")
                return CommandResult(0, "", "rauc mark: marked slot rootfs.0 as good\n")
            case ("fw_printenv", "-n", name) if name.startswith("BOOT_"):
                slot = name.removeprefix("BOOT_").removesuffix("_LEFT")
                if slot in self.left:
                    return CommandResult(0, f"{self.left[slot]}\n")
                return CommandResult(1, "", f"## Error: \"{name}\" not defined")
            case ("rauc", "info", "--output-format=json", _bundle):
                return CommandResult(0, f'{{"version": "{self.bundle_version}"}}\n')
            case ("systemctl", "reboot"):
                return CommandResult(0)
        return CommandResult(127, "", f"{argv[0]}: not faked")

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def ran(self, *argv: str) -> bool:
        return tuple(argv) in self.calls
