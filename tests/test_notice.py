"""What the out-of-service notice says, from the problems found (no Kivy needed)."""

from kiosk.boot_report import BootProblem
from kiosk.ui.notice import Notice, NoticeKind, problem_line, settings_notice


def test_each_problem_names_its_file_once():
    assert problem_line(BootProblem("wifi.toml", "password too short")) == \
        "wifi.toml: password too short"
    # A config error names its file already, as a path.
    assert problem_line(BootProblem("kiosk.toml", "/boot/firmware/kiosk.toml: not valid TOML")) \
        == "/boot/firmware/kiosk.toml: not valid TOML"
    assert (problem_line(BootProblem("", "/etc/kiosk/kiosk.toml: bad"))
            == "/etc/kiosk/kiosk.toml: bad")
    # A file named later in the message is not its head.
    assert problem_line(BootProblem("wifi.toml", "[wifi] country: fix wifi.toml")) == \
        "wifi.toml: [wifi] country: fix wifi.toml"


def test_the_same_message_from_boot_setup_and_from_the_app_is_shown_once():
    message = "/boot/firmware/kiosk.toml: not valid TOML: Expected '=' (at line 2, column 5)"
    notice = settings_notice([BootProblem("", message), BootProblem("kiosk.toml", message),
                              BootProblem("wifi.toml", "country must be two capital letters")])
    assert notice == Notice(NoticeKind.SETTINGS,
                            (message, "wifi.toml: country must be two capital letters"))


def test_the_status_is_the_first_line_and_how_many_more():
    assert Notice(NoticeKind.SETTINGS, ("a: x",)).status == "a: x"
    assert Notice(NoticeKind.SETTINGS, ("a: x", "b: y", "c: z")).status == "a: x (and 2 more)"
    assert Notice(NoticeKind.START_FAILED, ()).status == "start_failed"
