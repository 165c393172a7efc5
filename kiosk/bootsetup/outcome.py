"""What one boot-setup run did and found, gathered for the report and logged as it happens."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiosk.boot_report import BootProblem, BootReport

log = logging.getLogger("kiosk.bootsetup")


@dataclass
class Outcome:
    boot_dir: str = ""
    problems: list[BootProblem] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    def changed(self, line: str) -> None:
        """One change made (never with a secret in it)."""
        log.info("%s", line)
        self.applied.append(line)

    def problem(self, file: str, message: str) -> None:
        """Something the technician must fix; the file it is about stays where it is."""
        log.error("%s: %s", file, message)
        self.problems.append(BootProblem(file, message))

    def note(self, line: str) -> None:
        """Worth a log line, changes nothing and needs nothing done."""
        log.info("%s", line)

    def warn(self, line: str) -> None:
        """Could not be done, and the kiosk works anyway (e.g. the partition not grown)."""
        log.warning("%s", line)

    def report(self) -> BootReport:
        return BootReport(self.boot_dir, tuple(self.problems), tuple(self.applied),
                          dict(self.facts))
