"""`rauc status --detailed --output-format=json` read into dataclasses, the kernel's
`rauc.slot=`, /etc/kiosk-release, and what `kiosk update status` tells a technician: this slot,
its version, the other slot, whether the last update is on trial or fell back."""

from __future__ import annotations

from argparse import Namespace
from datetime import datetime, timezone

import pytest

from kiosk.cli import update_cmd
from kiosk.cli.main import main
from kiosk.commands import CommandResult
from kiosk.update import rauc, release, state
from kiosk.update.state import NotFromImage, UpdatePaths, UpdateState
from tests.update_fakes import STATUS_DIR, FakeKiosk, recorded


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "system.conf").write_text("[system]\n")
    (tmp_path / "kiosk-release").write_text(
        'VERSION=0.2.0\nBUILD="2026-12-06T00:00:00Z"\nCOMPATIBLE=library-kiosk-rpi-arm64\n')
    (tmp_path / "cmdline").write_text("console=ttyAMA0 root=PARTUUID=4b494f53-03 ro "
                                      "rauc.slot=B quiet\n")
    return UpdatePaths(tmp_path / "system.conf", tmp_path / "kiosk-release",
                       tmp_path / "cmdline")


def test_every_recorded_status_reads_into_slots():
    for path in sorted(STATUS_DIR.glob("*.json")):
        status = rauc.parse_status(path.read_text())
        assert status.compatible == "library-kiosk-rpi-arm64", path.name
        assert {s.bootname for s in status.slots} == {"A", "B"}, path.name
        assert [s.name for s in status.slots] == ["rootfs.0", "rootfs.1"]
        assert sum(s.booted for s in status.slots) == 1, path.name


def test_a_slot_reads_its_bundle_and_install_time():
    status = rauc.parse_status(recorded("fell_back"))
    assert status.booted == "B" and status.primary == "rootfs.1"
    a, b = status.slot("A"), status.slot("B")
    assert (a.name, a.device, a.state, a.boot_good) == (
        "rootfs.0", "/dev/disk/by-partuuid/4b494f53-02", "inactive", False)
    assert (a.bundle_version, a.install_status) == ("0.3.0-broken", "ok")
    assert a.installed_at == datetime(2026, 12, 6, 17, 41, 55, tzinfo=timezone.utc)
    assert b.booted and b.boot_good and b.bundle_version == "0.2.0"
    assert status.other("B") is a and status.other("A") is b
    factory = rauc.parse_status(recorded("factory"))
    assert factory.slot("B").bundle_version is None and factory.slot("B").installed_at is None


def test_what_rauc_cannot_say_is_an_error_not_a_crash():
    with pytest.raises(rauc.RaucError, match="cannot be read"):
        rauc.parse_status("rauc-Message: something else")
    with pytest.raises(rauc.RaucError, match="D-Bus"):
        rauc.read_status(FakeKiosk(rauc_works=False))


@pytest.mark.parametrize("name, expected", [
    (f"{source}{name}", state) for source in ("", "qemu-")
    for name, state in (("factory", UpdateState.OK), ("updated", UpdateState.OK),
                        ("trial", UpdateState.TRIAL), ("fell_back", UpdateState.FELL_BACK))])
def test_the_last_update_is_ok_on_trial_or_fell_back(name, expected):
    status = rauc.parse_status(recorded(name))
    assert state.assess(status, status.booted) is expected


def test_an_older_bad_slot_is_not_a_fall_back():
    # B was updated after A's failed attempt was replaced: A is bad but older than B.
    text = recorded("fell_back").replace("2026-12-06T17:41:55Z", "2026-12-06T17:00:00Z")
    status = rauc.parse_status(text)
    assert state.assess(status, "B") is UpdateState.OK


def test_kernel_command_line_and_release_file(tmp_path):
    assert release.boot_slot("root=PARTUUID=4b494f53-02 ro rauc.slot=A") == "A"
    assert release.boot_slot("root=/dev/vda2 ro") is None
    assert release.parse_release("VERSION='0.3.0'\n") == release.Release("0.3.0")
    assert release.parse_release("BUILD=x\n") is None
    assert release.read_release(tmp_path / "missing") is None


def test_what_rauc_printed_in_qemu_reads_as_the_proof_saw_it():
    fell_back = rauc.parse_status(recorded("qemu-fell_back"))
    a, b = fell_back.slot("A"), fell_back.slot("B")
    assert (fell_back.booted, a.bundle_version, a.boot_good, b.bundle_version, b.boot_good) == (
        "B", "0.3.0-broken", False, "0.2.0-qemu", True)
    assert a.installed_at > b.installed_at and a.install_status == "ok"
    trial = rauc.parse_status(recorded("qemu-trial"))
    assert trial.slot("A").booted and trial.slot("A").boot_good is False
    factory = rauc.parse_status(recorded("qemu-factory"))
    assert factory.slot("B").installed_at is None and factory.slot("A").boot_good


def test_status_as_a_technician_reads_it_after_a_fall_back(paths, capsys):
    fake = FakeKiosk(status=recorded("fell_back"))
    assert update_cmd.run_status(Namespace(), fake, paths) == 1
    out = capsys.readouterr().out
    assert "this slot:   B: kiosk system 0.2.0, built 2026-12-06T00:00:00Z (good)" in out
    assert "other slot:  A: 0.3.0-broken, installed 2026-12-06 17:41 UTC, bad" in out
    assert ("last update: FELL BACK: 0.3.0-broken installed into slot A did not get ready on "
            "its trial boot, so the kiosk came back to slot B by itself") in out


def test_status_on_trial_and_as_flashed(paths, capsys):
    assert update_cmd.run_status(Namespace(), FakeKiosk(status=recorded("trial")), paths) == 0
    assert "last update: on trial: slot B is kept once kiosk.service is ready" in \
        capsys.readouterr().out
    assert update_cmd.run_status(Namespace(), FakeKiosk(), paths) == 0
    out = capsys.readouterr().out
    assert "other slot:  B: nothing installed by an update" in out
    assert "last update: ok: none installed since the card was flashed" in out


def test_the_booted_slot_comes_from_the_command_line_when_rauc_does_not_say(paths):
    text = recorded("updated").replace('"booted":"B"', '"booted":null')
    view = state.read_view(rauc.parse_status(text), paths)
    assert view.slot == "B" and view.booted.bundle_version == "0.2.0"
    assert view.version == "0.2.0"


def test_a_kiosk_installed_with_setup_sh_is_told_how_to_update(tmp_path, capsys):
    paths = UpdatePaths(tmp_path / "no-rauc.conf")
    with pytest.raises(NotFromImage, match=r"update it with \./setup\.sh install again"):
        state.gather(FakeKiosk(), paths)
    assert main(["update", "status"]) == 0  # this machine has no /etc/rauc/system.conf
    assert "installed with setup.sh install" in capsys.readouterr().out
    assert update_cmd.run_install(Namespace(bundle="x.raucb"), FakeKiosk(), paths) == 1
    assert "./setup.sh install again" in capsys.readouterr().err


def test_install_runs_rauc_and_says_what_happens_next(paths, capsys):
    paths.release.write_text("VERSION=0.1.0\n")
    fake = FakeKiosk()  # as flashed: A booted
    installed = recorded("updated").replace('"booted":"B"', '"booted":"A"').replace(
        '"state":"booted"', '"state":"inactive"')

    def runner(argv, *, input=None):
        if argv[:2] == ["rauc", "install"]:
            fake.calls.append(tuple(argv))
            fake.status = installed
            return CommandResult(0)
        return fake(argv)

    assert update_cmd.run_install(Namespace(bundle="/media/kiosk-0.2.0-arm64.raucb"),
                                  runner, paths) == 0
    assert fake.ran("rauc", "install", "/media/kiosk-0.2.0-arm64.raucb")
    out = capsys.readouterr().out
    assert "0.2.0 is installed into slot B. Next: reboot (systemctl reboot)" in out
    assert "starts on trial" in out and "falls back to slot A (0.1.0) by itself" in out


def test_a_failed_install_says_nothing_changed(paths, capsys):
    def runner(argv, *, input=None):
        return CommandResult(1, "", "LastError: signature verification failed")
    assert update_cmd.run_install(Namespace(bundle="b.raucb"), runner, paths) == 1
    err = capsys.readouterr().err
    assert "signature verification failed" in err and "nothing changed" in err


def test_the_doctors_update_check_says_it_fell_back_in_both_languages(paths):
    from kiosk.i18n import Translator
    from kiosk.system_checks import check_update

    check = check_update(FakeKiosk(status=recorded("fell_back")), paths)
    assert (check.name, check.ok, check.warning) == ("update", True, True)
    assert check.summary.english == ("fell back: the update 0.3.0-broken in slot A did not get "
                                     "ready on its trial boot; slot B runs 0.2.0")
    chinese = Translator().tr("zh_CN", check.summary.msgid, **check.summary.args)
    assert chinese.startswith("已回退") and "0.3.0-broken" in chinese
    assert "journalctl --list-boots" in check.advice.english


def test_the_doctors_update_check_on_a_good_slot_on_trial_and_off_the_image(paths, tmp_path):
    from kiosk.system_checks import check_update

    good = check_update(FakeKiosk(status=recorded("updated")), paths)
    assert (good.ok, good.warning) == (True, False)
    assert good.summary.english == "slot B: 0.2.0; other slot A: -"
    trial = check_update(FakeKiosk(status=recorded("trial")), paths)
    assert trial.warning and "on trial" in trial.summary.english
    broken = check_update(FakeKiosk(rauc_works=False), paths)
    assert broken.ok is False and "systemctl status rauc" in broken.advice.english
    pc = check_update(FakeKiosk(), UpdatePaths(tmp_path / "none"))
    assert pc.ok is None and "./setup.sh install again" in pc.summary.english


def test_the_heartbeat_carries_the_system_version_slot_and_update(paths, tmp_path):
    from kiosk.upload.heartbeat import system_update

    assert system_update(FakeKiosk(status=recorded("fell_back")), paths) == {
        "system_version": "0.2.0", "slot": "B", "update": "fell_back"}
    assert system_update(FakeKiosk(status=recorded("trial")), paths)["update"] == "trial"
    # rauc not answering: what the files say still goes.
    assert system_update(FakeKiosk(rauc_works=False), paths) == {
        "system_version": "0.2.0", "slot": "B", "update": None}
    pc = UpdatePaths(tmp_path / "none", tmp_path / "none", tmp_path / "none")
    assert system_update(FakeKiosk(), pc) == {"system_version": None, "slot": None,
                                              "update": None}
