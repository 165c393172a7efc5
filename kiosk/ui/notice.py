"""What the out-of-service notice says: why the kiosk app cannot serve, and the details.

Kivy-free, so the command line can build one before Kivy's settings are made. The notice is
shown by `kiosk.ui.notice_app` when `kiosk run` finds its settings wrong (the config cannot be
loaded, or `kiosk boot-setup` reported a bad file on the SD card's boot folder), and by
`kiosk out-of-service` when systemd gave up starting the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.boot_report import BootProblem
from kiosk.i18n import N_


class NoticeKind(StrEnum):
    SETTINGS = "settings"          # a file on the boot folder, or the config, is wrong
    START_FAILED = "start_failed"  # kiosk.service failed too often; systemd gave up


HEADINGS = {
    NoticeKind.SETTINGS: N_("This kiosk's settings are wrong"),
    NoticeKind.START_FAILED: N_("This kiosk's app could not start"),
}
ADVICE = {
    NoticeKind.SETTINGS: N_("Staff: check the files on the SD card's boot partition"),
    NoticeKind.START_FAILED: N_("Staff: restart the kiosk; if this screen comes back, see the "
                                "reason below"),
}


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    details: tuple[str, ...]  # one line each, in English (technicians read them in the log too)

    @property
    def status(self) -> str:
        """The cause for systemd's STATUS= line: the first detail, and how many more."""
        first = self.details[0] if self.details else self.kind.value
        more = len(self.details) - 1
        return f"{first} (and {more} more)" if more > 0 else first


def problem_line(problem: BootProblem) -> str:
    """'wifi.toml: the password must be ...'; a config error names its file already."""
    head = problem.message.split(": ", 1)[0]
    if not problem.file or head == problem.file or head.endswith("/" + problem.file):
        return problem.message
    return f"{problem.file}: {problem.message}"


def settings_notice(problems: list[BootProblem]) -> Notice:
    lines: list[str] = []
    seen: set[str] = set()
    for problem in problems:
        if problem.message not in seen:  # boot-setup and the app both find a bad kiosk.toml
            seen.add(problem.message)
            lines.append(problem_line(problem))
    return Notice(NoticeKind.SETTINGS, tuple(lines))
