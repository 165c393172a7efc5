"""The real kiosk app in its own process (one window size per process), driven by touches
through the USB stick panel of the admin screen against a media helper at a real socket
(tests/test_admin_usb.py starts it, and the fake helper). Asserts what the screen shows,
saves screenshots, and exits 0 when all held.

    python tests/admin_usb_app.py SCENARIO WIDTHxHEIGHT SOCKET GO SHOTS
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

PIN = "2580"


def start(size: str, data: Path):
    from kiosk.core.pin import hash_pin

    return sized_app.start(size, data,
                           f'[admin]\npin_hash = "{hash_pin(PIN, iterations=100_000)}"\n'
                           '[devices]\nscanner = "sim:scanner"\n')


def main(scenario: str, size: str, socket_path: str, go: str, shots: str) -> int:
    os.environ["KIOSK_MEDIA_SOCKET"] = socket_path
    app, runtime = start(size, Path(tempfile.mkdtemp(prefix="kiosk-usb-ui-")))
    from kiosk.core import events as ev  # Kivy's window only now, at the configured size
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    k.frames(5)
    admin = k.open_admin(runtime, PIN)
    k.frames(5)
    assert k.widget("admin", "usb").text == "从 U 盘更新"
    if scenario == "install":
        k.screenshot(f"admin-usb-button-{size}")
    k.tap(k.widget("admin", "usb"))
    panel = admin.usb_panel
    assert panel is not None and admin.usb_open, "the USB panel did not open"
    assert "从 U 盘更新" in k.texts()

    def shot(name):
        k.frames(3)
        k.screenshot(f"admin-usb-{name}-{size}")

    if scenario == "unavailable":
        k.until(lambda: panel.state == "failed", timeout=20)
        assert "kiosk-media.socket" in panel.message and "setup.sh" in panel.message, panel.message
        shot("unavailable")
        k.tap(panel.ids.back)
        assert not admin.usb_open and admin.usb_panel is None
        return 0
    k.until(lambda: panel.state == "choose", timeout=20)
    assert "0.2.0" in panel.message, panel.message
    if scenario == "back":
        hung_up = Path(go).with_name("hung-up")
        assert not hung_up.exists()
        k.tap(panel.ids.back)
        assert not admin.usb_open and k.widget("admin", "status").parent is not None
        k.until(lambda: hung_up.exists(), timeout=10)  # while this process still runs
        return 0
    rows = {row["name"]: row for row in panel.rows}
    assert rows["kiosk-0.3.0-arm64.raucb"]["can_install"]
    assert not rows["kiosk-0.1.9-arm64.raucb"]["can_install"]
    assert "不比本机系统新" in rows["kiosk-0.1.9-arm64.raucb"]["detail"]
    shot("list")
    install = next(w for w in panel.ids.bundles.children[0].children if w.can_install)
    button = install.children[0]  # its Install button; in a RecycleView: tapped where it is
    k.tap_at(*button.to_window(*button.center))
    k.until(lambda: panel.state == "installing" and panel.percent == 20, timeout=20)
    assert panel.step == "20%  Checking bundle", panel.step
    assert panel.ids.back.disabled and panel.ids.look.disabled
    shot("installing")
    Path(go).touch()
    if scenario == "failed":
        k.until(lambda: panel.state == "failed", timeout=20)
        assert "没有任何改动" in panel.message and "Compatible mismatch" in panel.message
        shot("failed")
        runtime.send(ev.SetLanguage("en"))
        k.until(lambda: "Nothing was changed" in panel.message)
        shot("failed-en")
        return 0
    k.until(lambda: panel.state == "installed", timeout=20)
    assert "0.3.0" in panel.message and "0.2.0" in panel.message, panel.message
    assert not panel.ids.restart_system.disabled
    shot("installed")
    runtime.send(ev.SetLanguage("en"))
    k.until(lambda: panel.message.startswith("Update 0.3.0 is installed"))
    shot("installed-en")
    k.tap(panel.ids.restart_system)
    k.until(lambda: panel.state == "restarting")
    k.wait(0.3)
    print("restart asked", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
