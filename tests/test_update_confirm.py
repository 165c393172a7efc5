"""`kiosk update confirm`'s decisions, with rauc, fw_printenv and systemctl faked at the lowest
layer (tests/update_fakes.py) and a fake clock: mark the slot good once kiosk.service is ready;
past the deadline reboot only on the slot's last try with another slot to fall back to;
otherwise no reboot loop."""

from __future__ import annotations

import logging
from argparse import Namespace

from kiosk.cli import update_cmd
from kiosk.cli.main import build_parser
from kiosk.update.confirm import DEFAULT_DEADLINE_S, Outcome, confirm
from kiosk.update.state import UpdatePaths
from tests.update_fakes import FakeKiosk, recorded

MARK_GOOD = ("rauc", "status", "mark-good", "booted")
REBOOT = ("systemctl", "reboot")


def run(fake: FakeKiosk, deadline_s: float = 120.0) -> Outcome:
    return confirm(fake, deadline_s, clock=fake.clock, sleep=fake.sleep)


def test_ready_at_once_marks_the_slot_good():
    fake = FakeKiosk(ready_after_s=0)
    assert run(fake) is Outcome.MARKED_GOOD
    assert fake.ran(*MARK_GOOD) and not fake.ran(*REBOOT)
    assert fake.now == 0


def test_ready_before_the_deadline_marks_good_then():
    fake = FakeKiosk(ready_after_s=95, left={"A": 0, "B": 3})
    assert run(fake) is Outcome.MARKED_GOOD
    assert fake.ran(*MARK_GOOD) and not fake.ran(*REBOOT)
    assert 95 <= fake.now < 120


def test_not_ready_on_the_slots_last_try_reboots_so_u_boot_falls_back(caplog):
    # The broken update's trial boot: B was installed, booted once (BOOT_B_LEFT now 0), A is
    # the good slot with its 3 tries.
    fake = FakeKiosk(status=recorded("trial"), ready_after_s=None, left={"A": 3, "B": 0})
    with caplog.at_level(logging.ERROR):
        assert run(fake) is Outcome.REBOOTED
    assert fake.ran(*REBOOT) and not fake.ran(*MARK_GOOD)
    assert fake.now >= 120
    assert fake.calls.index(("fw_printenv", "-n", "BOOT_B_LEFT")) < fake.calls.index(REBOOT)
    assert "last try: rebooting so U-Boot falls back to slot A" in caplog.text


def test_ready_but_out_of_service_on_the_last_try_falls_back_too(caplog):
    """A new version that draws only its out-of-service screen (say it refuses the kiosk.toml
    the old one ran with) is not kept: the old slot served patrons with the same card."""
    fake = FakeKiosk(status=recorded("trial"), ready_after_s=0, left={"A": 3, "B": 0},
                     status_text="out of service: kiosk.toml: unknown option 'x' in [kiosk]")
    with caplog.at_level(logging.ERROR):
        assert run(fake) is Outcome.REBOOTED
    assert fake.ran(*REBOOT) and not fake.ran(*MARK_GOOD)
    assert "out of service: kiosk.toml" in caplog.text


def test_a_good_slot_out_of_service_is_marked_once_back_in_service():
    fake = FakeKiosk(ready_after_s=0, left={"A": 2, "B": 0}, status_text="out of service: x")
    outcome = confirm(fake, 120.0, clock=fake.clock,
                      sleep=lambda s: (fake.sleep(s), setattr(fake, "status_text", "in service")
                                       if fake.now >= 300 else None))
    assert outcome is Outcome.MARKED_GOOD and fake.now >= 300 and not fake.ran(*REBOOT)


def test_not_ready_with_tries_left_stays_without_reboot_and_keeps_a_late_start(caplog):
    fake = FakeKiosk(ready_after_s=400, left={"A": 2, "B": 0})
    with caplog.at_level(logging.ERROR):
        assert run(fake) is Outcome.MARKED_GOOD
    assert not fake.ran(*REBOOT) and fake.ran(*MARK_GOOD) and fake.now >= 400
    assert "slot A has 2 tries left" in caplog.text and "no reboot" in caplog.text


def test_no_reboot_when_the_other_slot_has_no_tries_either():
    # As flashed (B empty, BOOT_B_LEFT=0): a reboot would only bring U-Boot back here.
    fake = FakeKiosk(ready_after_s=1000, left={"A": 0, "B": 0})
    assert run(fake) is Outcome.MARKED_GOOD
    assert not fake.ran(*REBOOT)


def test_no_reboot_when_rauc_cannot_say_which_slot_this_is():
    fake = FakeKiosk(ready_after_s=1000, left={"A": 0, "B": 3}, rauc_works=False)
    assert run(fake) is Outcome.FAILED
    assert not fake.ran(*REBOOT)


def test_mark_good_refused_is_reported():
    fake = FakeKiosk(mark_good_works=False)
    assert run(fake) is Outcome.FAILED


def test_the_command_uses_the_default_deadline_and_does_nothing_off_the_image(tmp_path,
                                                                             capsys):
    assert DEFAULT_DEADLINE_S == 300
    parsed = build_parser().parse_args(["update", "confirm"])
    assert parsed.within == DEFAULT_DEADLINE_S
    fake = FakeKiosk()
    assert update_cmd.run_confirm(Namespace(within=10), fake,
                                  UpdatePaths(tmp_path / "none")) == 0
    assert "nothing to confirm" in capsys.readouterr().out and fake.calls == []


def test_the_unit_runs_confirm_only_on_the_image_and_install_enables_it():
    from tests.test_units import SYSTEMD, source_setup

    text = (SYSTEMD / "kiosk-update-confirm.service").read_text(encoding="utf-8")
    for line in ("ConditionPathExists=/etc/rauc/system.conf", "Type=exec",
                 "ExecStart=/opt/kiosk/.venv/bin/kiosk update confirm",
                 "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in text, line
    # Not strict: fw_printenv writes its lock in /run/lock.
    assert "ProtectSystem=strict" not in text
    enabled = source_setup('printf "%s\\n" "${ENABLED_UNITS[@]}"').stdout.split()
    assert "kiosk-update-confirm.service" in enabled
