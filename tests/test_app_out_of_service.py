"""Out of service instead of exiting: `kiosk run` with a bad kiosk.toml or a boot report with
problems, and `kiosk out-of-service`, as real processes on an X server of the test's own, with a
real notify socket standing in for systemd. Each stays up, says READY=1 with the message in
STATUS=, keeps pinging the watchdog, shows the notice (X-level screenshots in artifacts/i13/,
portrait too) and ends with 0 on SIGTERM.
"""

import json
import os
import signal
import subprocess
import sys

import pytest
from PIL import Image

from kiosk.boot_report import BootProblem, BootReport, write
from kiosk.cli.out_of_service_cmd import DEFAULT_REASON
from kiosk.ui.screens.out_of_service import BACKDROP
from tests import own_xvfb
from tests.conftest import ARTIFACTS, ROOT
from tests.notify_socket import NotifySocket

pytestmark = pytest.mark.ui
SHOTS = ARTIFACTS / "i13"
TITLE = "Library kiosk"
WIFI = BootProblem("wifi.toml", "[wifi] password must be 8 to 63 characters, or empty for an "
                                "open network; fix wifi.toml on the boot partition")
KEYS = BootProblem("authorized_keys", "line 2 is not a public key (ssh-ed25519 AAAA...); "
                                      "fix or delete it")


@pytest.fixture(scope="module")
def xserver():
    yield from own_xvfb.started()


@pytest.fixture
def systemd(tmp_path):
    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.close()


def good_config(tmp_path, display=""):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[display]\n{display}\n',
                    encoding="utf-8")
    return path


def kiosk(xserver, systemd, tmp_path, *args, env=()):
    environment = {k: v for k, v in os.environ.items() if k != "KIOSK_BOOT_REPORT"}
    environment.update({"HOME": str(tmp_path), "DISPLAY": xserver.display,
                        **systemd.env(watchdog_s=3.0), **dict(env)})
    return subprocess.Popen([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stays_up_out_of_service(app, systemd, cause):
    """READY=1 with STATUS=out of service: <cause>, then the watchdog's pings keep coming."""
    ready = systemd.wait_for("READY=1", app=app)
    assert f"STATUS=out of service: {cause}" in ready, ready
    for _ in range(3):
        systemd.wait_for("WATCHDOG=1", timeout=30, app=app)
    assert app.poll() is None


def stop(app, systemd) -> str:
    app.send_signal(signal.SIGTERM)
    try:
        _, log = app.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        app.kill()
        pytest.fail("SIGTERM ignored")
    assert app.returncode == 0, log[-3000:]
    systemd.drain()
    assert systemd.messages[-1] == ["STOPPING=1", "STATUS=stopping"]
    return log


def shot(xserver, name) -> Image.Image:
    SHOTS.mkdir(parents=True, exist_ok=True)
    picture = xserver.grab(TITLE).convert("RGB")
    picture.save(SHOTS / f"{name}.png")
    return picture


def ink(picture: Image.Image) -> Image.Image:
    """White where something is drawn over the backdrop, black elsewhere."""
    backdrop = Image.new("RGB", picture.size, tuple(round(c * 255) for c in BACKDROP[:3]))
    from PIL import ImageChops
    return ImageChops.difference(picture, backdrop).convert("L").point(lambda v: 255 * (v > 60))


def backdrop_share(picture: Image.Image) -> float:
    histogram = ink(picture).histogram()
    return histogram[0] / sum(histogram)


def blank_lines(mask: Image.Image) -> tuple[int, int]:
    """(blank rows, blank columns) inside the drawn area: text lines leave blank rows between
    them when upright, blank columns when turned a quarter."""
    box = mask.crop(mask.getbbox())
    rows = box.resize((1, box.height), Image.BOX).tobytes()
    columns = box.resize((box.width, 1), Image.BOX).tobytes()
    return sum(1 for v in rows if v == 0), sum(1 for v in columns if v == 0)


def line_heights(mask: Image.Image) -> list[int]:
    """Heights of the runs of drawn rows, top to bottom: one per line of text."""
    rows = mask.resize((1, mask.height), Image.BOX).tobytes()
    runs, run = [], 0
    for value in rows:
        if value:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    return runs + ([run] if run else [])


def test_a_bad_kiosk_toml_keeps_run_up_out_of_service(xserver, systemd, tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[idle]\ntimeout = 60\n", encoding="utf-8")
    cause = f"{path}: unknown option 'timeout' in section [idle]; allowed: timeout_s, countdown_s"
    app = kiosk(xserver, systemd, tmp_path, "run", "--config", str(path))
    try:
        stays_up_out_of_service(app, systemd, cause)
        picture = shot(xserver, "bad-kiosk-toml-800x480")
    finally:
        log = stop(app, systemd)
    assert picture.size == (800, 480)  # no config: the default display
    assert backdrop_share(picture) > 0.6
    rows, columns = blank_lines(ink(picture))
    assert rows > columns  # upright text
    assert f"out of service: {cause}" in log


def test_problems_in_the_boot_report_keep_run_up_out_of_service(xserver, systemd, tmp_path):
    report = tmp_path / "report.json"
    write(BootReport(boot_dir="/boot/firmware", problems=(WIFI, KEYS)), report)
    config = good_config(tmp_path, "width = 1280\nheight = 800")
    app = kiosk(xserver, systemd, tmp_path, "run", "--config", str(config),
                env={"KIOSK_BOOT_REPORT": str(report)})
    try:
        stays_up_out_of_service(app, systemd, f"wifi.toml: {WIFI.message} (and 1 more)")
        picture = shot(xserver, "boot-report-1280x800")
    finally:
        log = stop(app, systemd)
    assert picture.size == (1280, 800)
    assert backdrop_share(picture) > 0.6
    assert f"out of service: authorized_keys: {KEYS.message}" in log
    assert not (tmp_path / "data" / "journal.sqlite3").exists()  # no runtime, no journal


def test_a_missing_boot_report_that_kiosk_service_names_keeps_run_out_of_service(
        xserver, systemd, tmp_path):
    """boot-setup failed before writing its report: the card's files may not be applied, so the
    kiosk must not carry on in service as if they were."""
    missing = tmp_path / "kiosk-boot" / "report.json"
    app = kiosk(xserver, systemd, tmp_path, "run", "--config", str(good_config(tmp_path)),
                env={"KIOSK_BOOT_REPORT": str(missing)})
    try:
        ready = systemd.wait_for("READY=1", app=app)
        assert any(m.startswith("STATUS=out of service: kiosk boot-setup wrote no report")
                   for m in ready), ready
        systemd.wait_for("WATCHDOG=1", timeout=30, app=app)
    finally:
        log = stop(app, systemd)
    assert "journalctl -u kiosk-firstboot" in log


def test_many_problems_fit_the_smallest_panel(xserver, systemd, tmp_path):
    """Four lines at most; the rest are counted, and all are in the log."""
    report = tmp_path / "report.json"
    problems = (WIFI, KEYS, *(BootProblem(f"file{n}.toml", f"problem number {n}, described "
                                          "at some length as boot-setup's messages are")
                              for n in range(3, 7)))
    write(BootReport(boot_dir="/boot/firmware", problems=problems), report)
    app = kiosk(xserver, systemd, tmp_path, "run", "--config", str(good_config(tmp_path)),
                "--boot-report", str(report))
    try:
        stays_up_out_of_service(app, systemd, f"wifi.toml: {WIFI.message} (and 5 more)")
        picture = shot(xserver, "many-problems-800x480")
    finally:
        log = stop(app, systemd)
    assert "out of service: file6.toml: problem number 6" in log
    mask = ink(picture)
    assert mask.getbbox()[1] > 0 and mask.getbbox()[3] < picture.height  # nothing cut off


def test_a_portrait_panel_shows_the_notice_turned_clockwise(xserver, systemd, tmp_path):
    """A 1920x1080 panel mounted in portrait: `rotation = 90` turns the picture a quarter
    clockwise, so the notice's first line runs down the panel's right edge."""
    report = tmp_path / "report.json"
    write(BootReport(boot_dir="/boot/firmware", problems=(WIFI,)), report)
    config = good_config(tmp_path, "width = 1920\nheight = 1080\nrotation = 90")
    app = kiosk(xserver, systemd, tmp_path, "run", "--config", str(config),
                "--boot-report", str(report))
    try:
        stays_up_out_of_service(app, systemd, f"wifi.toml: {WIFI.message}")
        picture = shot(xserver, "boot-report-portrait-panel")
    finally:
        log = stop(app, systemd)
    assert picture.size == (1920, 1080)  # the panel
    rows, columns = blank_lines(ink(picture))
    assert columns > rows  # the text runs across the panel's short side
    upright = picture.rotate(90, expand=True)  # undo a quarter turn clockwise
    upright.save(SHOTS / "boot-report-1080x1920-portrait.png")
    heights = line_heights(ink(upright))
    assert heights[0] == max(heights)  # the big heading on top: turned the right way
    assert "window 1080x1920, rotation 270" in log  # Kivy's own counter-clockwise degrees


def test_out_of_service_command_for_systemds_on_failure(xserver, systemd, tmp_path):
    """What kiosk-out-of-service.service runs: no config needed, the default reason."""
    app = kiosk(xserver, systemd, tmp_path, "out-of-service", "--config",
                str(tmp_path / "absent.toml"))
    try:
        stays_up_out_of_service(app, systemd, DEFAULT_REASON)
        picture = shot(xserver, "out-of-service-command-800x480")
    finally:
        stop(app, systemd)
    assert picture.size == (800, 480) and backdrop_share(picture) > 0.6


def test_out_of_service_command_with_its_reason_and_the_configs_rotation(xserver, systemd,
                                                                        tmp_path):
    config = good_config(tmp_path, "width = 800\nheight = 480\nrotation = 180")
    app = kiosk(xserver, systemd, tmp_path, "out-of-service", "--config", str(config),
                "--reason", "kiosk.service: the display could not be opened")
    try:
        stays_up_out_of_service(app, systemd, "kiosk.service: the display could not be opened")
        picture = shot(xserver, "out-of-service-command-upside-down")
    finally:
        log = stop(app, systemd)
    assert "rotation 180" in log
    heights = line_heights(ink(picture))
    assert heights[-1] == max(heights)  # upside down: the big heading at the bottom


def test_the_report_file_format_is_what_boot_report_writes(tmp_path):
    """The report the tests hand the app is boot-setup's own format (kiosk.boot_report)."""
    report = tmp_path / "report.json"
    write(BootReport(problems=(WIFI,)), report)
    assert json.loads(report.read_text())["problems"][0]["file"] == "wifi.toml"
