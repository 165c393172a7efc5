"""What `kiosk boot-setup` found on the SD card's boot folder at this boot, for the app and doctor.

`kiosk boot-setup` (kiosk-firstboot.service, as root, before kiosk.service) writes the report to
/run, which is empty at every boot; `kiosk run` reads it and stays out of service, showing each
problem, while any file there is wrong: a technician who just edited the card must see that
their change was not applied, never a kiosk that silently ignores it. Messages never quote a
secret (a token, a Wi-Fi password).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPORT_PATH = Path("/run/kiosk-boot/report.json")
FORMAT = 1
NOT_RUN = ("kiosk boot-setup wrote no report at this boot ({path}), so the boot folder's files "
           "may not be applied: see `journalctl -u kiosk-firstboot`, then restart the kiosk")


@dataclass(frozen=True)
class BootProblem:
    file: str     # the file's name on the boot folder, e.g. "wifi.toml"
    message: str  # what is wrong and what to do, in English (technicians read it in the log too)


@dataclass(frozen=True)
class BootReport:
    boot_dir: str = ""                             # "" when no boot folder was found
    problems: tuple[BootProblem, ...] = ()
    applied: tuple[str, ...] = ()                  # one line per change made, for the log
    facts: dict[str, str] = field(default_factory=dict)  # e.g. data partition, grown by

    @property
    def ok(self) -> bool:
        return not self.problems


def write(report: BootReport, path: Path = REPORT_PATH) -> None:
    """Replace the report atomically, readable by the kiosk user (it holds no secret)."""
    from kiosk.bootsetup.files import write_atomically  # only boot-setup writes the report
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    data = {"format": FORMAT, **asdict(report)}
    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"),
                     mode=0o644)


def read(path: Path = REPORT_PATH, *, expected: bool = False) -> BootReport | None:
    """The report of this boot; None when boot-setup has not run (a developer's machine).

    `expected`: boot-setup must have run (kiosk.service names the report), so a missing report
    means it failed before writing one, and the card's files may not have been applied."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not expected:
            return None
        return BootReport(problems=(BootProblem("", NOT_RUN.format(path=path)),))
    except (OSError, ValueError) as e:
        # A report we cannot read is itself a problem to show, not a reason to carry on blind.
        return BootReport(problems=(BootProblem(path.name, f"cannot read {path}: {e}"),))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return BootReport(problems=(BootProblem(path.name, f"{path}: unknown format"),))
    return BootReport(
        boot_dir=str(data.get("boot_dir", "")),
        problems=tuple(BootProblem(str(p.get("file", "")), str(p.get("message", "")))
                       for p in data.get("problems", ()) if isinstance(p, dict)),
        applied=tuple(str(a) for a in data.get("applied", ())),
        facts={str(k): str(v) for k, v in dict(data.get("facts", {})).items()})
