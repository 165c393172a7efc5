"""Sound in the real app under Xvfb: a patron's borrowing walked through with real touches, the
demo tray's card and RFID book, the test ILS; the idle countdown; the accessibility mode; staff's
volume on the admin screen. What the player asked for is read at the lowest layer: a recording
Sound class registered with Kivy's own SoundLoader in place of SDL2's, so everything above it
(the app's listener, the cues, the player, the loader call) is the shipped code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("UI tests need a display: run them through ./setup.sh test (Xvfb)")
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from kiosk.core import events as ev  # noqa: E402
from kiosk.demo import hooks  # noqa: E402
from kiosk.sip2.standin_data import IlsData  # noqa: E402
from kiosk.sip2.standin_server import Sip2TestServer  # noqa: E402
from tests.embedded_kiosk import embedded_kiosk  # noqa: E402
from tests.runtime_kiosk import ils_section  # noqa: E402
from tests.staff_pin import staff_hash  # noqa: E402

pytestmark = pytest.mark.ui
DEMO_ILS = ROOT / "kiosk" / "demo" / "ils.toml"
SHOTS = Path(os.environ.get("SOUND_SHOTS", ROOT / "artifacts" / "screenshots"))
STAFF_PIN = "246810"
FILES = "kiosk/sound/files/"


def recording_sound_class():
    """A Kivy Sound that plays nothing and writes down what it was asked: (what, file, volume)."""
    from kivy.core.audio import Sound

    class RecordingSound(Sound):
        asked: list[tuple[str, str, float]] = []

        @staticmethod
        def extensions():
            return ("wav", "ogg")

        def _get_length(self):
            return 1.0

        def play(self):
            super().play()
            RecordingSound.asked.append(("play", self.source.split(FILES)[1], self.volume))

        def stop(self):
            super().stop()
            RecordingSound.asked.append(("stop", self.source.split(FILES)[1], self.volume))

    return RecordingSound


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-sound")
    ils = Sip2TestServer(IlsData.load(DEMO_ILS)).start()
    path = data / "kiosk.toml"
    path.write_text(f"""
[kiosk]
data_dir = "{data}"
[display]
width = {os.environ.get("SOUND_WIDTH", "800")}
height = {os.environ.get("SOUND_HEIGHT", "480")}
fullscreen = "no"
[admin]
pin_hash = "{staff_hash(STAFF_PIN)}"
{ils_section(ils)}
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
[sound]
volume = 60
quiet_hours = "22:00-07:00"
quiet_volume = 20
""", encoding="utf-8")
    recording = recording_sound_class()

    def record_sounds():
        from kivy.core.audio import SoundLoader
        SoundLoader._classes.insert(0, recording)  # before SDL2's: the one layer faked

    with embedded_kiosk(path, shots=SHOTS, before_app=record_sounds) as driver:
        runtime = driver.app.runtime
        driver.ils, driver.asked, driver.data = ils, recording.asked, data
        driver.until(lambda: runtime.ils.online, timeout=10)
        # The test's wall clock is not in the quiet hours, whatever the machine's time.
        from datetime import datetime
        driver.app.sound._local_now = lambda: datetime(2026, 12, 7, 12, 0)
        yield driver
    ils.stop()
    from kivy.core.audio import SoundLoader
    SoundLoader._classes.remove(recording)


@pytest.fixture
def at_attract(kiosk):
    runtime = kiosk.app.runtime
    runtime.send(ev.EndSession())
    hooks.sim_pad(runtime.drivers).clear()
    kiosk.until(lambda: not runtime.session.pad_uids, timeout=5)
    runtime.send(ev.SetLanguage("zh_CN"))
    kiosk.frames(3)
    kiosk.app.accessible = False
    kiosk.asked.clear()
    return kiosk


def played(k) -> list[str]:
    return [name for what, name, _ in k.asked if what == "play"]


def tray(k, label):
    return next(w for w in k.app.tray.walk() if getattr(w, "text", "") == label)


def type_on_the_keypad(k, digits):
    keys = {w.text: w for w in k.widget("identify", "keypad").children}
    for digit in digits:
        k.tap(keys[digit])
    k.tap(keys["确定"])


def test_a_borrowing_is_heard_step_by_step(at_attract):
    k = at_attract
    runtime = k.app.runtime
    k.touch_to_start()  # nothing said outside the accessibility mode
    k.tap(k.widget("home", "borrow"))
    assert played(k) == ["zh_CN/scan_card.ogg"]
    k.tap(tray(k, "读者证 Card · 陈晓明 · 密码 PIN 1234"))
    k.until(lambda: runtime.view.circulation.step == "pin")
    assert played(k)[-1] == "zh_CN/enter_pin.ogg"
    type_on_the_keypad(k, "1234")
    k.until(lambda: k.screen == "borrow")
    assert played(k)[-1] == "zh_CN/place_books.ogg"
    k.tap(tray(k, "RFID 《红楼梦》"))
    k.until(lambda: any(line.status == "ok" for line in runtime.view.circulation.lines),
            timeout=10)
    assert played(k)[-1] == "tones/success.wav"
    k.tap(k.widget("borrow", "buttons").ids.finish)
    assert k.screen == "receipt"
    k.until(lambda: played(k)[-1] == "zh_CN/borrowed.1.ogg")  # after the tone has sounded
    k.tap(k.widget("receipt", "done"))
    assert k.screen == "goodbye"
    assert played(k) == ["zh_CN/scan_card.ogg", "zh_CN/enter_pin.ogg", "zh_CN/place_books.ogg",
                         "tones/success.wav", "tones/success.wav", "zh_CN/borrowed.1.ogg",
                         "zh_CN/goodbye_card.ogg"]
    # Each new prompt stopped the one before it; every sound at the config's 60 %.
    stopped = [name for what, name, _ in k.asked if what == "stop"]
    assert {"zh_CN/scan_card.ogg", "zh_CN/enter_pin.ogg", "zh_CN/borrowed.1.ogg"} <= set(stopped)
    assert {round(volume, 2) for what, _, volume in k.asked if what == "play"} == {0.6}


def test_the_idle_countdown_asks_then_says_goodbye_in_english(at_attract):
    k = at_attract
    runtime = k.app.runtime
    k.touch_to_start()
    runtime.send(ev.SetLanguage("en"))
    k.advance(runtime.config.idle.timeout_s + 1)
    assert runtime.view.countdown is not None
    k.until(lambda: played(k)[-1:] == ["en/still_there.ogg"])
    assert played(k) == ["tones/attention.wav", "en/still_there.ogg"]
    k.advance(runtime.config.idle.countdown_s + 1)
    assert k.screen == "attract"
    assert played(k)[-1] == "en/goodbye.ogg"


def test_the_accessibility_mode_says_every_screen(at_attract):
    k = at_attract
    k.app.runtime.send(ev.SetAccessible(True))  # the attract screen's button: a session in it
    k.frames(3)
    assert k.app.accessible and k.screen == "home"
    k.tap(k.widget("home", "ebooks"))
    assert played(k) == ["zh_CN/choose_service.ogg", "zh_CN/ebooks.ogg"]


def test_staff_turn_the_volume_up_and_it_is_kept(at_attract):
    k = at_attract
    runtime = k.app.runtime
    admin = k.open_admin(runtime, STAFF_PIN)
    from kiosk.ui.screens.admin_sound import SoundSettingsPanel
    panel = next(w for w in admin.walk() if isinstance(w, SoundSettingsPanel))
    assert panel.ids.open_sound.text == "声音 · 音量 60%"
    size = f"{k.app.root.width}x{k.app.root.height}"
    k.screenshot(f"sound-admin-{size}")
    k.tap(panel.ids.open_sound)
    dialog = panel.dialog
    assert dialog is not None and dialog.ids.volume_label.text == "音量 60%"
    assert dialog.ids.sound_status.text == "安静时段 22:00-07:00：音量 20%"
    assert played(k) == []  # staff screens are silent
    k.tap(dialog.ids.louder)
    assert dialog.ids.volume_label.text == "音量 70%"
    assert k.asked[-1] == ("play", "tones/success.wav", 0.7)  # heard at the new loudness
    assert json.loads((k.data / "sound.json").read_text()) == {"volume": 70}
    k.tap(dialog.ids.test_tone)
    assert k.asked[-1] == ("play", "tones/success.wav", 0.7)
    k.screenshot(f"sound-dialog-{size}")
    runtime.send(ev.SetLanguage("en"))
    k.frames(3)
    assert dialog.ids.volume_label.text == "Volume 70%"
    k.screenshot(f"sound-dialog-en-{size}")
    k.tap(dialog.ids.close)
    assert panel.dialog is None and panel.ids.open_sound.text == "Sound · Volume 70%"
    k.tap(panel.ids.open_sound)
    runtime.send(ev.EndSession())  # leaving the admin screen closes the dialog
    k.frames(3)
    assert panel.dialog is None and k.screen == "attract"
    k.app.sound.set_volume(60)
