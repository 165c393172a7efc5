"""Sound without a screen: the prompt table covers every step, the shipped files are those of
the table, the cues for changes of view, quiet hours, the [sound] options, and the player with
a recording loader (and with no sound device at all, through Kivy's real SDL2 loader)."""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from shutil import which as shutil_which

import pytest

from kiosk import config as config_module
from kiosk.core.circulation_view import CirculationView, Line, PatronView, ReceiptView
from kiosk.core.events import Screen
from kiosk.core.outcomes import IdentifyMessage, LineStatus, Step
from kiosk.core.receipt_data import KINDS, Receipt, ReceiptLine
from kiosk.core.session_view import Farewell, Notice, View
from kiosk.errors import ConfigError
from kiosk.sound import cues, files, prompts, saved
from kiosk.sound.cues import Cue, cue_for
from kiosk.sound.player import SoundPlayer
from kiosk.sound.settings import SoundSettings
from kiosk.sound.tones import Tone, wav_bytes
from tests.conftest import ROOT

# --- the table covers every step ------------------------------------------------------------


def app_notices() -> set[str]:
    """The notice ids the app shows (kiosk/ui/app.py's NOTICES), read without Kivy."""
    tree = ast.parse((ROOT / "kiosk/ui/app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                getattr(t, "id", "") == "NOTICES" for t in node.targets):
            return {key.value for key in node.value.keys}  # type: ignore[attr-defined]
    raise AssertionError("NOTICES not found in kiosk/ui/app.py")


def test_every_screen_step_message_line_state_and_notice_has_its_cue():
    missing = [f"screen {s}" for s in Screen if s not in cues.SCREENS]
    missing += [f"step {s}" for s in Step if s not in cues.STEPS]
    missing += [f"identify message {m}" for m in IdentifyMessage if m not in cues.IDENTIFY_MESSAGES]
    missing += [f"line status {s}" for s in LineStatus if s not in cues.LINES]
    missing += [f"receipt kind {k}" for k in KINDS if k not in cues.RECEIPTS]
    missing += [f"notice {n}" for n in sorted(app_notices() - set(cues.NOTICES))]
    assert missing == []


def test_every_prompt_a_cue_names_is_in_the_table_and_every_patron_screen_says_something():
    named = {said.prompt for said in cues.SCREENS.values() if said}
    named |= {p for p in cues.STEPS.values() if p} | set(cues.IDENTIFY_MESSAGES.values())
    named |= {c.prompt for c in (*cues.LINES.values(), *cues.NOTICES.values()) if c and c.prompt}
    named |= {"goodbye", "goodbye_card", cues.COUNTDOWN.prompt}
    assert named - set(prompts.PROMPTS) == set()
    assert set(cues.RECEIPTS.values()) <= set(prompts.COUNTED)
    silent = {s for s, said in cues.SCREENS.items() if said is None}
    # Identify speaks by step, the receipt by count and the goodbye as the session ends; only
    # staff screens say nothing.
    assert silent == {Screen.IDENTIFY, Screen.RECEIPT, Screen.GOODBYE, Screen.ADMIN_PIN,
                      Screen.ADMIN}


def test_counted_sentences_in_both_languages():
    table = prompts.all_prompts()
    assert table["borrowed.3"] == prompts.Prompt("借书成功，共三册。", "Done. 3 books borrowed.")
    assert table["returned.2"].zh == "还书成功，共两册。"
    assert table["renewed.1"].en == "Done. One book renewed."
    assert table["borrowed.12"].zh == "借书成功，共十二册。"
    assert prompts.counted_id("borrowed", 20) == "borrowed.20"
    assert prompts.counted_id("borrowed", 21) == "borrowed.many"
    assert [prompts.chinese_number(n) for n in (1, 2, 10, 11, 20, 21, 99)] == [
        "一", "两", "十", "十一", "二十", "二十一", "九十九"]


def test_words_espeak_ng_reads_wrongly_go_to_it_as_pinyin():
    assert prompts.spoken("还书成功，共两册。", "zh_CN") == " huan2 shu1 成功，共两册。"
    assert prompts.spoken("您还在吗？", "zh_CN") == "您还在吗？"  # hai2 here, as espeak says
    assert prompts.spoken("Return", "en") == "Return"


# --- the shipped files ----------------------------------------------------------------------

def test_every_prompt_and_tone_has_its_file_matching_the_manifest():
    assert files.problems() == []
    manifest = files.load_manifest()["files"]
    assert len(manifest) == 2 * len(prompts.all_prompts()) + len(Tone)
    for name, entry in manifest.items():
        assert (files.FILES / name).stat().st_size == entry["bytes"]
        assert entry["seconds"] < 8, name  # a prompt, not a speech


def test_a_prompt_whose_words_changed_without_its_file_fails(monkeypatch):
    monkeypatch.setitem(prompts.PROMPTS, "enter_pin",
                        prompts.Prompt("请输入您的密码。", "Please enter your PIN."))
    assert files.problems() == [
        "zh_CN/enter_pin.ogg: made from other words or settings than today's table"]


def test_a_file_changed_or_missing_fails(tmp_path):
    import shutil
    copy = tmp_path / "files"
    shutil.copytree(files.FILES, copy)
    (copy / "en/goodbye.ogg").write_bytes(b"OggS")
    (copy / "zh_CN/goodbye.ogg").unlink()
    assert files.problems(copy) == ["zh_CN/goodbye.ogg: missing",
                                    "en/goodbye.ogg: changed since it was made"]


def test_files_are_small_ogg_vorbis_at_16_khz_mono():
    data = (files.FILES / "zh_CN/borrowed.3.ogg").read_bytes()
    assert data[:4] == b"OggS" and b"\x01vorbis" in data[:64]
    header = data[data.index(b"\x01vorbis") + 7:]
    channels, rate = header[4], int.from_bytes(header[5:9], "little")
    assert (channels, rate) == (1, 16000)
    assert sum(p.stat().st_size for p in files.FILES.rglob("*.ogg")) < 2_500_000


def test_tones_are_the_same_bytes_every_time_and_as_shipped():
    for tone in Tone:
        assert wav_bytes(tone) == wav_bytes(tone)
        shipped = (files.FILES / files.tone_name(tone)).read_bytes()
        assert hashlib.sha256(shipped).digest() == hashlib.sha256(wav_bytes(tone)).digest()


def test_the_files_go_into_the_wheel():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"kiosk.sound" = ["files/*.json", "files/*/*.ogg", "files/tones/*.wav"]' in text


# --- cues -----------------------------------------------------------------------------------

def receipt_view(kind, outcomes, language="zh_CN"):
    lines = tuple(ReceiptLine(f"书{n}", f"3352{n}", date(2027, 1, 5), outcome)
                  for n, outcome in enumerate(outcomes))
    receipt = Receipt(kind, "图书馆", "Library", "kiosk-1", datetime(2026, 12, 7, 12), "", lines)
    return View(screen=Screen.RECEIPT, language=language,
                circulation=CirculationView(receipt=ReceiptView(kind, receipt, language)))


def test_cues_for_a_borrowing():
    home = View(screen=Screen.HOME)
    identify = View(screen=Screen.IDENTIFY)
    assert cue_for(home, identify) == Cue(None, "scan_card")
    pin = replace(identify, circulation=CirculationView(step=Step.PIN))
    checking = replace(identify, circulation=CirculationView(step=Step.CHECKING))
    assert cue_for(checking, pin) == Cue(None, "enter_pin")
    wrong = replace(identify, circulation=CirculationView(step=Step.PIN,
                                                          message=IdentifyMessage.WRONG_PIN))
    assert cue_for(checking, wrong) == Cue(Tone.REFUSAL, "wrong_pin")
    assert cue_for(wrong, replace(wrong)) is None  # the same message still showing
    patron = PatronView("**********4566", "陈晓明")
    borrow = View(screen=Screen.BORROW, circulation=CirculationView(patron=patron))
    assert cue_for(pin, borrow) == Cue(None, "place_books")
    busy = replace(borrow, circulation=replace(borrow.circulation, lines=(Line("a", "a"),)))
    done = replace(borrow, circulation=replace(borrow.circulation, lines=(
        Line("a", "a", status=LineStatus.OK),)))
    refused = replace(borrow, circulation=replace(borrow.circulation, lines=(
        Line("a", "a", status=LineStatus.OK), Line("b", "b", status=LineStatus.REFUSED))))
    assert cue_for(borrow, busy) is None
    assert cue_for(busy, done) == Cue(Tone.SUCCESS)
    assert cue_for(done, refused) == Cue(Tone.REFUSAL, "book_refused")
    assert cue_for(done, receipt_view("borrow", ["borrowed", "offline", "refused"])) == \
        Cue(Tone.SUCCESS, "borrowed.2")
    assert cue_for(done, receipt_view("return", ["returned"] * 25, "en")) == \
        Cue(Tone.SUCCESS, "returned.many", "en")
    assert cue_for(done, receipt_view("borrow", ["refused"])) is None
    # The session ends on the goodbye screen, in the patron's language: the card asked back
    # when one was shown; a session that did nothing goes straight to the attract screen.
    english = replace(receipt_view("borrow", ["borrowed"], "en"),
                      circulation=CirculationView(patron=patron))
    goodbye = View(screen=Screen.GOODBYE, language="en")
    assert cue_for(english, replace(goodbye, farewell=Farewell(True, 0.0))) == \
        Cue(None, "goodbye_card", "en")
    assert cue_for(english, replace(goodbye, farewell=Farewell(False, 0.0))) == \
        Cue(None, "goodbye", "en")
    assert cue_for(replace(goodbye, farewell=Farewell(True, 0.0)), View()) is None
    assert cue_for(english, View()) == Cue(None, "goodbye", "en")


def test_cues_for_idle_notices_and_the_accessibility_mode():
    home = View(screen=Screen.HOME)
    asking = replace(home, countdown=15)
    assert cue_for(home, asking) == Cue(Tone.ATTENTION, "still_there")
    assert cue_for(asking, replace(home, countdown=14)) is None
    assert cue_for(asking, View()) == Cue(None, "goodbye")  # timed out
    admin = View(screen=Screen.ADMIN)
    assert cue_for(admin, replace(admin, countdown=15)) == Cue(Tone.ATTENTION)
    noticed = replace(home, notice=Notice("scan_isbn", {}, 1.0))
    assert cue_for(home, noticed) == Cue(Tone.REFUSAL, "not_library_code")
    assert cue_for(home, replace(home, notice=Notice("new_from_elsewhere"))) == \
        Cue(Tone.ATTENTION)
    attract = View()
    assert cue_for(attract, home) is None
    assert cue_for(attract, home, accessible=True) == Cue(None, "choose_service")
    ebooks = View(screen=Screen.EBOOKS, language="en")
    assert cue_for(replace(ebooks, language="zh_CN"), ebooks, accessible=True) == \
        Cue(None, "ebooks", "en")  # a language switch says the screen again
    assert cue_for(home, View(screen=Screen.ADMIN_PIN), accessible=True) is None
    assert cue_for(View(screen=Screen.ADMIN), View(), accessible=True) == Cue(None, "welcome")
    out = View(screen=Screen.OUT_OF_SERVICE)
    assert cue_for(attract, out) == Cue(Tone.ATTENTION, "out_of_service")


# --- quiet hours and the [sound] options ----------------------------------------------------

def test_quiet_hours_pass_midnight():
    sound = SoundSettings(volume=80, quiet_hours="22:00-07:00", quiet_volume=20)
    at = lambda h, m: sound.percent_at(datetime(2026, 12, 7, h, m))  # noqa: E731
    assert [at(21, 59), at(22, 0), at(23, 59), at(0, 0), at(6, 59), at(7, 0), at(12, 0)] == \
        [80, 20, 20, 20, 20, 80, 80]
    assert replace(sound, quiet_volume=95).percent_at(datetime(2026, 12, 7, 23)) == 80
    assert SoundSettings().percent_at(datetime(2026, 12, 7, 3)) == SoundSettings().volume


@pytest.mark.parametrize("body, message", [
    ("volume = 101", "option 'volume' in section [sound] must be <= 100 (got 101)"),
    ("quiet_volume = -1", "option 'quiet_volume' in section [sound] must be >= 0 (got -1)"),
    ('quiet_hours = "22-7"', "option 'quiet_hours' in section [sound] is not valid: HH:MM-HH:MM"),
    ('quiet_hours = "22:00-22:00"', "option 'quiet_hours' in section [sound]: '22:00-22:00' is "
                                    "an empty window"),
    ('quiet_hours = "25:00-07:00"', "option 'quiet_hours' in section [sound]: '25:00-07:00' is "
                                    "not a window"),
    ('voice = "off"', "option 'voice' in section [sound] must be true or false"),
    ("loud = true", "unknown option 'loud' in section [sound]; allowed: volume, quiet_hours"),
])
def test_sound_options_are_checked(tmp_path, body, message):
    path = tmp_path / "kiosk.toml"
    path.write_text(f"[sound]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_module.load(path)
    assert message in str(caught.value)


def test_sound_options_load(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[sound]\nvolume = 55\nquiet_hours = "21:30-06:30"\nquiet_volume = 0\n'
                    "voice = false\n", encoding="utf-8")
    assert config_module.load(path).sound == SoundSettings(55, "21:30-06:30", 0, False)


def test_staff_volume_is_kept_over_the_configs(tmp_path):
    path = tmp_path / saved.FILE_NAME
    assert saved.applied(SoundSettings(), path) == SoundSettings()
    saved.keep(path, 40)
    assert saved.applied(SoundSettings(volume=90), path).volume == 40
    path.write_text('{"volume": "loud"}', encoding="utf-8")
    assert saved.applied(SoundSettings(volume=90), path).volume == 90


# --- the player -----------------------------------------------------------------------------

class Recorded:
    """A loaded sound that writes down what was done with it."""

    def __init__(self, log, path, length=1.0):
        self.log, self.name, self.length, self.volume = log, path.split("files/")[1], length, 1.0

    def play(self):
        self.log.append(("play", self.name, round(self.volume, 2)))

    def stop(self):
        self.log.append(("stop", self.name))


def recording_player(settings=SoundSettings(), *, hour=12, length=1.0):
    done: list = []
    waiting: list = []
    player = SoundPlayer(lambda path: Recorded(done, path, length), settings,
                         later=lambda delay, call: waiting.append(call),
                         local_now=lambda: datetime(2026, 12, 7, hour, 30))
    return player, done, waiting


def test_a_tone_then_its_prompt_and_a_new_prompt_stops_the_one_before():
    player, done, waiting = recording_player()
    player.play(Cue(None, "place_books"))
    assert done == [("play", "zh_CN/place_books.ogg", 0.7)]
    player.play(Cue(Tone.REFUSAL, "book_refused", "en"))
    assert done[1:] == [("play", "tones/refusal.wav", 0.7), ("stop", "zh_CN/place_books.ogg")]
    waiting.pop()()  # the tone has sounded
    assert done[-1] == ("play", "en/book_refused.ogg", 0.7)
    player.play(Cue(Tone.SUCCESS, "borrowed.1"))
    player.play(Cue(None, "goodbye"))  # before the success tone ended
    waiting.pop()()  # the older cue's prompt is dropped
    assert [d for d in done if d[0] == "play"][-2:] == [
        ("play", "tones/success.wav", 0.7), ("play", "zh_CN/goodbye.ogg", 0.7)]


def test_quiet_hours_and_voice_off_in_the_player():
    quiet = SoundSettings(volume=80, quiet_hours="22:00-07:00", quiet_volume=0)
    player, done, _ = recording_player(quiet, hour=23)
    player.play(Cue(Tone.ATTENTION, "still_there"))
    assert done == []  # muted at night
    player, done, _ = recording_player(replace(quiet, quiet_volume=25), hour=2)
    player.play(Cue(None, "still_there"))
    assert done == [("play", "zh_CN/still_there.ogg", 0.25)]
    player, done, _ = recording_player(quiet, hour=23)
    player.test_tone()  # staff hear the volume they set, even at night
    assert done == [("play", "tones/success.wav", 0.8)]
    player, done, waiting = recording_player(SoundSettings(voice=False))
    player.play(Cue(Tone.ATTENTION, "still_there"))
    assert done == [("play", "tones/attention.wav", 0.7)] and waiting == []


def test_staff_volume_from_the_admin_panel(tmp_path):
    kept = []
    done: list = []
    player = SoundPlayer(lambda p: Recorded(done, p), SoundSettings(), keep=kept.append)
    player.set_volume(130)
    player.test_tone()
    assert kept == [100] and done == [("play", "tones/success.wav", 1.0)]


def test_the_player_hears_views_and_skips_the_first(caplog):
    player, done, _ = recording_player()
    player.hear(View())  # where the kiosk starts
    player.hear(View(screen=Screen.HOME))
    player.hear(View(screen=Screen.BORROW))
    assert done == [("play", "zh_CN/place_books.ogg", 0.7)]


@pytest.mark.parametrize("load", [
    lambda path: None,  # no provider
    lambda path: Recorded([], path, length=0),  # SDL2's mixer could not be opened
    lambda path: (_ for _ in ()).throw(OSError("no such device")),
])
def test_no_sound_device_logs_once_and_goes_on(caplog, load):
    player = SoundPlayer(load, SoundSettings())
    with caplog.at_level(logging.WARNING, logger="kiosk.sound.player"):
        for _ in range(5):
            player.play(Cue(Tone.SUCCESS, "borrowed.3"))
            player.hear(View(screen=Screen.BORROW))
    assert player.broken is not None
    assert [r.getMessage()[:31] for r in caplog.records] == ["sound off until the kiosk resta"]


NO_DEVICE = """
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(name)s %(message)s")
from kiosk.sound.cues import Cue
from kiosk.sound.player import SoundPlayer
from kiosk.sound.settings import SoundSettings
from kiosk.sound.tones import Tone
from kiosk.ui.sound_link import kivy_load
player = SoundPlayer(kivy_load, SoundSettings())
for _ in range(3):
    player.play(Cue(Tone.SUCCESS, "borrowed.3"))
print("went on:", player.broken)
"""


def test_no_sound_device_through_kivys_own_sdl2_loader():
    """Kivy's real SoundLoader with an SDL audio driver that cannot open: one line, no raise."""
    env = dict(os.environ, SDL_AUDIODRIVER="no-such-driver", KIVY_NO_ARGS="1",
               KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1", KIVY_LOG_MODE="PYTHON")
    done = subprocess.run([sys.executable, "-c", NO_DEVICE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    ours = [line for line in done.stdout.splitlines() if line.startswith("kiosk.sound")]
    assert len(ours) == 1 and "sound off until the kiosk restarts" in ours[0]
    assert "went on: success.wav cannot be loaded (no sound device?)" in done.stdout


SDL_LENGTHS = """
import json, sys, time
from kivy.core.audio import SoundLoader
from kiosk.sound.files import FILES
names = json.loads(sys.argv[1])
out, spent = {}, 0.0
for name in names:
    start = time.process_time()
    sound = SoundLoader.load(str(FILES / name))
    spent += time.process_time() - start
    out[name] = sound.length if sound else None
print(json.dumps({"lengths": out, "ms_per_load": 1000 * spent / len(names)}))
"""


def test_kivys_sdl2_mixer_decodes_every_shipped_file_to_its_length():
    """Through Kivy's own SDL2 loader, with SDL's dummy audio driver standing in for a card:
    every Ogg prompt and WAV tone loads and lasts what the manifest says."""
    import json
    manifest = files.load_manifest()["files"]
    env = dict(os.environ, SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1",
               KIVY_NO_FILELOG="1", KIVY_LOG_MODE="PYTHON")
    done = subprocess.run([sys.executable, "-c", SDL_LENGTHS, json.dumps(sorted(manifest))],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = {name: (length, manifest[name]["seconds"])
             for name, length in result["lengths"].items()
             if length is None or abs(length - manifest[name]["seconds"]) > 0.05}
    assert wrong == {}
    assert result["ms_per_load"] < 25  # CPU on the Kivy thread: about 3 ms here


@pytest.mark.skipif(not shutil_which("espeak-ng"), reason="espeak-ng: ./setup.sh deps")
def test_espeak_ng_reads_every_chinese_prompt_as_mandarin():
    """The build's voice switches to English for nothing it is given: 1.51's `cmn` voice read
    the pinyin of characters it did not know as English words ("jie four")."""
    voice, speed = files.VOICES["zh_CN"]
    english = {}
    for prompt_id, prompt in prompts.all_prompts().items():
        said = subprocess.run(["espeak-ng", "-v", voice, "-q", "-x",
                               prompts.spoken(prompt.zh, "zh_CN")],
                              capture_output=True, text=True, check=True).stdout
        if "(en)" in said:
            english[prompt_id] = said
    assert english == {}
