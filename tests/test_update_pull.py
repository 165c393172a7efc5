"""System updates from the central server on the kiosk: `kiosk update pull` (the kiosk user)
against a real HTTP server on 127.0.0.1, then `kiosk update apply-downloaded` (root) with
`rauc` and `systemctl` stood in at the lowest layer (a Runner), the app's activity file, the
update window, and what the heartbeat, the doctor and `kiosk update status` say. Time is a
fake clock moved only by the code's own sleeps."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
from argparse import Namespace
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk import config as config_module
from kiosk.cli import update_cmd
from kiosk.cli.main import build_parser
from kiosk.commands import CommandResult
from kiosk.core import events as ev
from kiosk.delivery import status as delivery
from kiosk.delivery.releases import ReleaseKind
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import ConfigError
from kiosk.journal import Journal
from kiosk.runtime import Runtime, SteerableClock
from kiosk.update import activity
from kiosk.update.activity import Activity
from kiosk.update.apply import Apply, ApplyOutcome
from kiosk.update.pull import Pull, PullOutcome, download_folder, judge
from kiosk.update.rauc import parse_status
from kiosk.update.state import UpdatePaths, read_view
from kiosk.update.window import parse_window
from tests.conftest import ROOT
from tests.test_delivery import TOKEN, ReleaseServer, payload
from tests.test_units import source_setup
from tests.update_fakes import FakeKiosk, recorded

CHINA = timezone(timedelta(hours=8))
NIGHT = datetime(2026, 12, 7, 1, 20, tzinfo=CHINA)  # inside the default window 01:00-05:00
FILE = "/api/v1/releases/12/file"


def after_install(version: str) -> str:
    """updated.json (B booted with 0.2.0, A empty) once `rauc install` wrote `version` to A."""
    data = json.loads(recorded("updated"))
    for entry in data["slots"]:
        for slot in entry.values():
            if slot["bootname"] == "A":
                slot["boot_status"] = "good"
                slot["slot_status"] = {"bundle": {"compatible": data["compatible"],
                                                  "version": version},
                                       "installed": {"timestamp": "2026-12-06T17:25:00Z",
                                                     "count": 1},
                                       "status": "ok"}
    data["boot_primary"] = "rootfs.0"
    return json.dumps(data)


@dataclass
class Kiosk(FakeKiosk):
    """FakeKiosk (rauc status, systemctl) that also installs: `rauc install BUNDLE` puts the
    bundle's version into slot A (what RAUC 1.8 then reports), or refuses it."""
    status: str = field(default_factory=lambda: recorded("updated"))
    install_version: str = "0.3.0"
    refuse: str | None = None
    installed_bytes: list[bytes] = field(default_factory=list)

    def __call__(self, argv, *, input=None):
        argv = tuple(argv)
        if argv[:2] == ("rauc", "install"):
            self.calls.append(argv)
            bundle = Path(argv[2])
            self.installed_bytes.append(bundle.read_bytes())
            if self.refuse:  # as RAUC 1.8 printed it in QEMU: the reason, then a closing line
                return CommandResult(1, f"100% Installing failed.\nLastError: {self.refuse}\n",
                                     f"Installing `{bundle}` failed\n")
            self.status = after_install(self.install_version)
            return CommandResult(0, "installing: 100% Installing done.\n")
        return super().__call__(argv, input=input)


class Night:
    """Local wall time that moves only when the code sleeps."""

    def __init__(self, start: datetime = NIGHT) -> None:
        self.moment = start
        self.on_sleep = None

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        if self.on_sleep:
            self.on_sleep(self.moment)


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "system.conf").write_text("[system]\n")
    (tmp_path / "kiosk-release").write_text("VERSION=0.2.0\nCOMPATIBLE=library-kiosk-rpi-arm64\n")
    (tmp_path / "cmdline").write_text("root=PARTUUID=4b494f53-03 ro rauc.slot=B\n")
    return UpdatePaths(tmp_path / "system.conf", tmp_path / "kiosk-release",
                       tmp_path / "cmdline")


@pytest.fixture
def server():
    with ReleaseServer() as running:
        yield running


def publish(server: ReleaseServer, version: str = "0.3.0", size: int = 150_000, seed: int = 5):
    served = server.publish(payload(size, seed), path=FILE)
    server.latest = {"id": 12, "version": version, "size": size, "sha256": served.sha256,
                     "url": FILE, "published_at": "2026-12-06T10:00:00Z"}
    return served


def make_config(tmp_path: Path, url: str, extra: str = ""):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    token = data / "central.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{data}"\n[central]\nurl = "{url}"\n'
                    f'retries = 2\nbackoff_s = 0.0\n{extra}')
    return config_module.load(path)


def pull(config, kiosk, paths, night=None):
    night = night or Night()
    return Pull(config, runner=kiosk, paths=paths, now=night.now, sleep=night.sleep,
                clock=night.monotonic).run()


def apply(config, kiosk, paths, night, activity_path):
    return Apply(config, runner=kiosk, paths=paths, now=night.now, sleep=night.sleep,
                 activity_path=activity_path).run()


def idle_since(path: Path, moment: datetime, session: bool = False) -> None:
    activity.write(path, Activity(session, moment.astimezone(timezone.utc)))


def system_status(config) -> DeliveryStatus:
    return delivery.read(config.data_dir, ReleaseKind.SYSTEM)


# --- the window ---------------------------------------------------------------------------

def test_the_window_may_pass_midnight_and_a_bad_one_stops_start_up(tmp_path):
    night = parse_window("23:00-03:00")
    assert night.contains(NIGHT) and night.contains(NIGHT.replace(hour=23, minute=5))
    assert not night.contains(NIGHT.replace(hour=3)) and not night.contains(NIGHT.replace(hour=12))
    assert night.end_after(NIGHT.replace(hour=23)) == NIGHT.replace(day=8, hour=3, minute=0)
    assert parse_window("00:00-24:00").contains(NIGHT.replace(hour=23, minute=59))
    assert str(parse_window("01:00-05:00")) == "01:00-05:00"
    for bad, said in (("01:00-01:00", "empty window"), ("25:00-03:00", "not a window"),
                      ("1:00-5:00", "not valid")):
        path = tmp_path / "kiosk.toml"
        path.write_text(f'[updates]\nwindow = "{bad}"\n')
        with pytest.raises(ConfigError) as refused:
            config_module.load(path)
        assert "'window' in section [updates]" in str(refused.value) and said in str(refused.value)
    defaults = config_module.load(tmp_path / "kiosk.toml" if False else ROOT / "systemd" /
                                  "kiosk.toml.example").updates
    assert (defaults.window, defaults.max_rate_kbps, defaults.reserve_mb) == ("01:00-05:00", 0, 200)


# --- what to do with the published release ----------------------------------------------

def view_of(name_or_json: str, paths):
    text = recorded(name_or_json) if not name_or_json.startswith("{") else name_or_json
    return read_view(parse_status(text), paths)


def release(version="0.3.0", sha="a" * 64):
    from kiosk.delivery.releases import from_answer
    return from_answer({"id": 12, "version": version, "size": 10, "sha256": sha, "url": FILE},
                       ReleaseKind.SYSTEM)


def test_only_a_newer_release_not_yet_in_the_other_slot_is_downloaded(paths):
    booted = view_of("updated", paths)  # B runs 0.2.0
    assert judge(release("0.3.0"), booted, None) is None
    assert judge(release("0.10.0"), booted, None) is None  # numbers compare as numbers
    assert judge(release("0.3.0-qemu"), booted, None) is None
    assert judge(release("0.2.0-qemu"), booted, None).outcome is PullOutcome.UP_TO_DATE
    assert judge(None, booted, None).outcome is PullOutcome.NONE_PUBLISHED
    same = judge(release("0.2.0+20261207"), booted, None)  # a build suffix never orders
    assert same.outcome is PullOutcome.UP_TO_DATE and "the same as" in same.why
    older = judge(release("0.1.9"), booted, None)
    assert older.outcome is PullOutcome.UP_TO_DATE and "older than" in older.why
    there = judge(release("0.3.0"), view_of(after_install("0.3.0"), paths), None)
    assert (there.outcome, there.state) == (PullOutcome.INSTALLED_ALREADY,
                                            DeliveryState.INSTALLED)
    bad = judge(release("v0.3"), booted, None)
    assert bad.state is DeliveryState.FAILED and "proper version" in bad.why
    refused = DeliveryStatus(DeliveryState.FAILED, "0.3.0", why="rauc refused it",
                             refused_sha256="a" * 64)
    assert judge(release("0.3.0"), booted, refused).outcome is PullOutcome.REFUSED_BEFORE
    assert judge(release("0.3.0", sha="b" * 64), booted, refused) is None  # a new file: try it


def test_an_update_that_fell_back_is_not_installed_again(paths):
    fell = view_of("fell_back", paths)  # 0.3.0-broken in A fell back to B's 0.2.0
    assert fell.other.bundle_version == "0.3.0-broken"
    view = view_of(recorded("fell_back").replace("0.3.0-broken", "0.3.0"), paths)
    verdict = judge(release("0.3.0"), view, None)
    assert verdict.state is DeliveryState.FAILED
    assert "did not get ready on its trial boot" in verdict.why and "newer version" in verdict.why


# --- pull, then apply ---------------------------------------------------------------------

def test_pull_downloads_the_newer_release_and_apply_installs_and_restarts_when_idle(
        tmp_path, paths, server):
    served = publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    result = pull(config, kiosk, paths)
    assert result.outcome is PullOutcome.DOWNLOADED, result.message
    status = system_status(config)
    assert (status.state, status.version, status.done_bytes, status.total_bytes) == (
        DeliveryState.DOWNLOADED, "0.3.0", len(served.body), len(served.body))
    assert [s.path for s in server.seen] == ["/api/v1/updates/latest", FILE]
    # The root step: RAUC gets the verified file, then the kiosk restarts, nobody using it.
    night = Night(NIGHT + timedelta(minutes=10))
    idle_since(tmp_path / "activity", NIGHT)
    done = apply(config, kiosk, paths, night, tmp_path / "activity")
    assert done.outcome is ApplyOutcome.RESTARTING, done.message
    assert kiosk.installed_bytes == [served.body]
    assert kiosk.calls[-1] == ("systemctl", "reboot")
    assert "falls back to 0.2.0 by itself" in done.message
    assert not any(download_folder(config.data_dir).iterdir())  # installed once, then deleted
    assert system_status(config).state is DeliveryState.INSTALLED


def test_the_restart_waits_for_the_patron_and_a_minute_more(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    night = Night()
    path = tmp_path / "activity"
    idle_since(path, NIGHT, session=True)
    finished = NIGHT + timedelta(minutes=7)

    def patron(moment):
        if moment >= finished and activity.read(path).session:
            idle_since(path, finished)  # the app wrote it when the session ended
        assert ("systemctl", "reboot") not in kiosk.calls  # never while in use
    night.on_sleep = patron
    done = apply(config, kiosk, paths, night, path)
    assert done.outcome is ApplyOutcome.RESTARTING
    assert night.moment - finished >= timedelta(seconds=activity.IDLE_BEFORE_RESTART_S)
    assert night.moment - finished < timedelta(seconds=activity.IDLE_BEFORE_RESTART_S + 30)


def test_in_use_until_the_window_ends_it_waits_for_the_next_night(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    path = tmp_path / "activity"
    idle_since(path, NIGHT, session=True)  # a staff member's long session on the admin screen
    night = Night(NIGHT.replace(hour=4, minute=50))
    done = apply(config, kiosk, paths, night, path)
    assert done.outcome is ApplyOutcome.WAITING
    assert ("systemctl", "reboot") not in kiosk.calls
    assert night.moment.strftime("%H:%M") == "05:00"
    assert system_status(config).state is DeliveryState.WAITING
    assert "next window" in system_status(config).why
    # The next night: the pull finds it in the other slot, the root step restarts.
    idle_since(path, NIGHT)
    again = pull(config, kiosk, paths, Night(NIGHT + timedelta(days=1)))
    assert again.outcome is PullOutcome.INSTALLED_ALREADY
    assert system_status(config).state is DeliveryState.WAITING
    night = Night(NIGHT + timedelta(days=1, minutes=5))
    assert apply(config, kiosk, paths, night, path).outcome is ApplyOutcome.RESTARTING
    assert [c for c in kiosk.calls if c[:2] == ("rauc", "install")].__len__() == 1


def test_a_bundle_rauc_refuses_is_deleted_and_not_fetched_again(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk(refuse="LastError: signature verification failed: certificate not trusted")
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    done = apply(config, kiosk, paths, Night(), tmp_path / "activity")
    assert done.outcome is ApplyOutcome.INSTALL_FAILED and done.failed
    assert "signature verification failed" in done.message
    assert ("systemctl", "reboot") not in kiosk.calls
    assert not any(download_folder(config.data_dir).iterdir())
    before = len(server.file_requests())
    again = pull(config, kiosk, paths)
    assert again.outcome is PullOutcome.REFUSED_BEFORE
    assert len(server.file_requests()) == before  # not downloaded again
    assert system_status(config).state is DeliveryState.FAILED


def test_outside_the_window_or_off_the_image_nothing_is_asked(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)
    noon = pull(config, Kiosk(), paths, Night(NIGHT.replace(hour=12)))
    assert noon.outcome is PullOutcome.OUTSIDE_WINDOW
    assert "outside the update window 01:00-05:00 (it is 12:20 here)" in noon.message
    pc = pull(config, Kiosk(), UpdatePaths(tmp_path / "none"))
    assert pc.outcome is PullOutcome.NOT_FROM_IMAGE and "setup.sh install" in pc.message
    nothing = Apply(config, runner=Kiosk(), paths=UpdatePaths(tmp_path / "none")).run()
    assert nothing.outcome is ApplyOutcome.NOT_FROM_IMAGE
    assert server.seen == []


def test_the_window_ending_pauses_the_download_and_the_next_night_resumes(tmp_path, paths,
                                                                          server):
    served = publish(server, size=400_000)
    config = make_config(tmp_path, server.url, '[updates]\nmax_rate_kbps = 800\n')  # 100 kB/s
    night = Night(NIGHT.replace(hour=4, minute=59, second=58))
    paused = pull(config, Kiosk(), paths, night)
    assert paused.outcome is PullOutcome.PAUSED and "the next run resumes" in paused.message
    status = system_status(config)
    assert status.state is DeliveryState.DOWNLOADING
    assert 0 < status.done_bytes < len(served.body)
    resumed = pull(config, Kiosk(), paths, Night(NIGHT + timedelta(days=1)))
    assert resumed.outcome is PullOutcome.DOWNLOADED
    assert server.file_requests()[-1].range == f"bytes={status.done_bytes}-"


def test_an_unreachable_server_is_a_failure_in_words(tmp_path, paths):
    config = make_config(tmp_path, "http://127.0.0.1:9")  # nothing listens on discard
    result = pull(config, Kiosk(), paths)
    assert result.failed and "could not be asked for updates" in result.message
    assert system_status(config).state is DeliveryState.FAILED


# --- what the kiosk reports ---------------------------------------------------------------

def test_heartbeat_doctor_and_status_tell_the_delivery(tmp_path, paths, server, capsys):
    from kiosk.i18n import Translator
    from kiosk.system_checks import check_update
    from kiosk.upload.heartbeat import heartbeat_body
    from kiosk.upload.state import UploadState

    served = publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    body = heartbeat_body(config, UploadState(), 0, runner=kiosk, update_paths=paths)
    assert "delivery" not in body  # never pulled: the field is left out
    delivery.write(config.data_dir, ReleaseKind.SYSTEM, DeliveryStatus(
        DeliveryState.DOWNLOADING, "0.3.0", 52_428_800, 209_715_200))
    body = heartbeat_body(config, UploadState(), 0, runner=kiosk, update_paths=paths)
    system = body["delivery"]["system"]
    assert {k: system[k] for k in ("version", "state", "done_bytes", "total_bytes", "why")} == {
        "version": "0.3.0", "state": "downloading", "done_bytes": 52_428_800,
        "total_bytes": 209_715_200, "why": None}
    assert system["at"].endswith("Z")
    check = check_update(kiosk, paths, system_status(config))
    assert check.summary.english == ("slot B: 0.2.0; update 0.3.0 from the central server: 50 "
                                     "of 200 MB downloaded, the rest in the next update window")
    chinese = Translator().tr("zh_CN", check.summary.msgid, **check.summary.args)
    assert "0.3.0" in chinese and "50" in chinese and chinese != check.summary.english

    kiosk.refuse = "signature verification failed"
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    apply(config, kiosk, paths, Night(), tmp_path / "activity")
    check = check_update(kiosk, paths, system_status(config))
    assert check.warning and ("failed: rauc refused to install 0.3.0: signature verification "
                              "failed") in check.summary.english
    assert "journalctl -u kiosk-pull" in check.advice.english
    assert "失败" in Translator().tr("zh_CN", check.summary.msgid, **check.summary.args)
    assert heartbeat_body(config, UploadState(), 0, runner=kiosk,
                          update_paths=paths)["delivery"]["system"]["state"] == "failed"

    update_cmd.run_status(Namespace(config=str(tmp_path / "kiosk.toml")), kiosk, paths)
    out = capsys.readouterr().out
    assert "from server: 0.3.0 failed: rauc refused to install 0.3.0" in out
    assert len(served.body) > 0


def test_once_the_kiosk_runs_the_update_it_is_no_longer_reported_pending(tmp_path, paths):
    config = make_config(tmp_path, "http://127.0.0.1:9")
    delivery.write(config.data_dir, ReleaseKind.SYSTEM,
                   DeliveryStatus(DeliveryState.INSTALLED, "0.2.0", why="restarting into 0.2.0"))
    from kiosk.system_checks import check_update
    from kiosk.upload.heartbeat import delivery_field

    assert check_update(Kiosk(), paths, system_status(config)).summary.english.startswith(
        "slot B: 0.2.0; other slot A")
    assert delivery_field(config, "0.2.0")["delivery"]["system"]["state"] == "idle"
    assert delivery_field(config, "0.1.0")["delivery"]["system"]["state"] == "installed"


# --- the app's activity file --------------------------------------------------------------

def test_the_app_notes_when_a_session_starts_and_ends(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    written = tmp_path / "run" / "activity"
    try:
        runtime.start()
        first = activity.read(written)
        assert first.session is False
        runtime.send(ev.Start())
        during = activity.read(written)
        assert during.session is True and during.idle_for(datetime.now(timezone.utc)) == 0
        runtime.send(ev.EndSession())
        assert activity.read(written).session is False
        assert oct(written.stat().st_mode & 0o777) == "0o600"
    finally:
        runtime.close()
    assert activity.read(tmp_path / "nothing") is None  # the app is not running: nobody uses it
    written.write_text("{broken")
    with pytest.raises(activity.Unreadable):
        activity.read(written)


# --- the units ----------------------------------------------------------------------------

def unit_lines(name: str) -> list[tuple[str, str]]:
    lines = (ROOT / "systemd" / name).read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("=", 1)) for line in lines if "=" in line and line[0] != "#"]


def test_the_service_pulls_as_the_kiosk_user_then_applies_as_root():
    service = unit_lines("kiosk-pull.service")
    # After the e-book batches' pull (tests/test_content_pull.py): the pull as the kiosk user,
    # its failure not stopping the root step (a restart already due); the root step with full
    # privileges.
    starts = [value for key, value in service if key == "ExecStart"][-2:]
    assert starts[0].startswith("-/") and starts[1].startswith("+/")
    for start, command, module in ((starts[0].lstrip("-"), "pull", "run_pull"),
                                   (starts[1].lstrip("+"), "apply-downloaded", "run_apply")):
        program, *args = shlex.split(start)
        assert program == "/opt/kiosk/.venv/bin/kiosk"
        parsed = build_parser().parse_args(args)
        assert (parsed.action, parsed.func.__name__) == (command, module)
    settings = dict(service)
    assert (settings["Type"], settings["User"], settings["Group"]) == ("oneshot", "kiosk", "kiosk")
    for hardening in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert settings[hardening] == "yes"
    assert settings["ProtectSystem"] == "full"
    assert "network-online.target" in settings["After"]
    timer = dict(unit_lines("kiosk-pull.timer"))
    assert (timer["OnCalendar"], timer["Persistent"], timer["WantedBy"]) == (
        "hourly", "true", "timers.target")
    assert timer["RandomizedDelaySec"] == "30min"
    enabled = source_setup('printf "%s\\n" "${ENABLED_UNITS[@]}"').stdout.split()
    installed = source_setup('printf "%s\\n" "${KIOSK_UNITS[@]}"').stdout.split()
    assert "kiosk-pull.timer" in enabled and "kiosk-pull.service" not in enabled
    assert {"kiosk-pull.service", "kiosk-pull.timer"} <= set(installed)


NOBODY = 65534


@pytest.fixture
def open_folder():
    """A folder other users may enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pull-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_root_step_handles_the_kiosk_users_files_with_the_kiosk_users_rights(
        open_folder, paths, server):
    """Links the kiosk user planted in its own folders make root neither write nor delete
    elsewhere; the bundle is root's before RAUC reads it."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the step changes to the kiosk user's rights and back")
    tmp_path = open_folder
    served = publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    data = config.data_dir
    for path in [data, *data.rglob("*")]:  # as on a kiosk: the pull ran as the kiosk user
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    # Root's files the links point at: one to be overwritten, a folder to be emptied.
    root_only = tmp_path / "root-only"
    root_only.mkdir(mode=0o755)
    precious = root_only / "precious"
    precious.write_text("keep me\n")
    folder = download_folder(data)
    copy = root_only / "download"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    for path in [*folder.iterdir()]:
        path.unlink()
    folder.rmdir()
    folder.symlink_to(copy)  # the download folder, now a link to root's folder
    stale = delivery.folder(data, ReleaseKind.SYSTEM) / f".status.json.{os.getpid()}.tmp"
    stale.symlink_to(precious)  # where the status is written first
    seen_at_install = []
    real_call = kiosk.__call__

    def installing(argv, *, input=None):
        if tuple(argv[:2]) == ("rauc", "install"):
            st = Path(argv[2]).stat()
            seen_at_install.append((st.st_uid, oct(st.st_mode & 0o777)))
        return real_call(argv, input=input)

    night = Night(NIGHT + timedelta(minutes=10))
    idle_since(tmp_path / "activity", NIGHT)
    os.chown(tmp_path / "activity", NOBODY, NOBODY)  # the app writes it as the kiosk user
    done = Apply(config, runner=installing, paths=paths, now=night.now, sleep=night.sleep,
                 activity_path=tmp_path / "activity").run()
    assert done.outcome is ApplyOutcome.RESTARTING, done.message
    assert kiosk.installed_bytes == [served.body]
    assert seen_at_install == [(0, "0o600")]
    assert precious.read_text() == "keep me\n"
    assert sorted(p.name for p in copy.iterdir()) == [
        "download.json", f"system-{served.sha256[:16]}.raucb"]
    status = delivery.folder(data, ReleaseKind.SYSTEM) / delivery.STATUS_NAME
    assert status.stat().st_uid == NOBODY  # the kiosk user's next run reads and replaces it
    assert system_status(config).state is DeliveryState.INSTALLED


def test_the_commands_say_what_they_did_on_a_kiosk_installed_with_setup_sh(tmp_path):
    if Path("/etc/rauc/system.conf").exists():
        pytest.skip("this machine has RAUC configured: the commands would act")
    from tests.small_partition import kiosk

    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    for action, said in (("pull", "nothing to pull"), ("apply-downloaded", "nothing to apply")):
        done = kiosk("update", action, "--config", str(config), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"kiosk update {action}: this kiosk was installed with setup.sh install" in (
            done.stdout) and said in done.stdout


def test_an_installed_update_gets_its_restart_while_the_server_is_away(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)
    kiosk = Kiosk()
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    path = tmp_path / "activity"
    idle_since(path, NIGHT, session=True)
    night = Night(NIGHT.replace(hour=4, minute=59))
    assert apply(config, kiosk, paths, night, path).outcome is ApplyOutcome.WAITING
    away = make_config(tmp_path, "http://127.0.0.1:9")  # the next night: no server
    assert pull(away, kiosk, paths, Night(NIGHT + timedelta(days=1))).failed
    assert system_status(away).state is DeliveryState.FAILED
    idle_since(path, NIGHT)
    done = apply(away, kiosk, paths, Night(NIGHT + timedelta(days=1, minutes=1)), path)
    assert done.outcome is ApplyOutcome.RESTARTING and kiosk.calls[-1] == ("systemctl", "reboot")


def test_nothing_published_is_204_or_404_or_a_null_version(tmp_path, paths, server, caplog):
    config = make_config(tmp_path, server.url)
    for answer, status in ((None, None), (None, 404), ({"version": None}, None)):
        server.latest, server.latest_status = answer, status
        with caplog.at_level("INFO"):
            result = pull(config, Kiosk(), paths)
        assert result.outcome is PullOutcome.NONE_PUBLISHED, result.message
        assert system_status(config).state is DeliveryState.IDLE
    assert [s.status for s in server.seen] == [204, 404, 200]
    assert "HTTP 404, taken as nothing there" in caplog.text


def test_the_file_may_be_an_address_on_the_same_server_but_never_on_another(
        tmp_path, paths, server):
    served = publish(server)
    config = make_config(tmp_path, server.url)
    server.latest["url"] = server.url + FILE  # the same scheme, host and port
    assert pull(config, Kiosk(), paths).outcome is PullOutcome.DOWNLOADED
    with ReleaseServer() as elsewhere:
        elsewhere.publish(served.body, path=FILE)
        server.latest.update(url=elsewhere.url + FILE, sha256="c" * 64)
        result = pull(config, Kiosk(), paths)
        assert result.failed and "is not on the central server" in result.message
        assert elsewhere.seen == []  # the token never went there
    for other in ("//evil.example/x", "ftp://127.0.0.1/x", server.url.replace("127.0.0.1",
                                                                              "localhost")):
        server.latest["url"] = other
        assert "is not on the central server" in pull(config, Kiosk(), paths).message


def test_a_restart_that_fails_is_not_reported_as_restarting(tmp_path, paths, server):
    publish(server)
    config = make_config(tmp_path, server.url)

    class RebootFails(Kiosk):
        def __call__(self, argv, *, input=None):
            if list(argv) == ["systemctl", "reboot"]:
                return CommandResult(1, "", "Failed to reboot: Access denied")
            return super().__call__(argv, input=input)

    kiosk = RebootFails()
    assert pull(config, kiosk, paths).outcome is PullOutcome.DOWNLOADED
    idle_since(tmp_path / "activity", NIGHT)
    done = apply(config, kiosk, paths, Night(NIGHT + timedelta(minutes=10)),
                 tmp_path / "activity")
    assert done.outcome is ApplyOutcome.WAITING, done.message
    status = system_status(config)
    assert status.state is DeliveryState.WAITING and "Access denied" in status.why
