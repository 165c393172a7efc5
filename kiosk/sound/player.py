"""Plays cues: a tone at once, then the prompt when the tone has sounded; a new prompt stops the
one before it. Runs on the Kivy main thread as a listener of the runtime's views; it is handed
the sound loader (Kivy's `SoundLoader.load`) and a way to call back later (Kivy's Clock), so it
has no Kivy of its own and the tests give it fakes.

Never in the patron's way: with no sound device (Xvfb, a Pi without speakers), a file that will
not load or a loader that raises, it logs once and stays silent for the rest of the process.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from kiosk.core.session_view import View
from kiosk.sound.cues import Cue, cue_for
from kiosk.sound.files import FILES, prompt_path, tone_path
from kiosk.sound.settings import SoundSettings
from kiosk.sound.tones import Tone, seconds

log = logging.getLogger(__name__)
KEEP_LOADED = 12  # prompts kept decoded (SDL holds each as PCM: about 0.2 MB a second of speech)
GAP_S = 0.05  # between the tone's end and the prompt


class Sound(Protocol):
    """What the player uses of a loaded sound (Kivy's `kivy.core.audio.Sound`)."""
    volume: float
    length: float

    def play(self) -> Any: ...

    def stop(self) -> Any: ...


Loader = Callable[[str], "Sound | None"]
Later = Callable[[float, Callable[[], None]], Any]


class SoundPlayer:
    def __init__(self, load: Loader, settings: SoundSettings, *,
                 later: Later = lambda _delay, call: call(),
                 local_now: Callable[[], datetime] = datetime.now,
                 accessible: Callable[[], bool] = lambda: False, root: Path = FILES,
                 start: View | None = None, keep: Callable[[int], None] = lambda _v: None) -> None:
        """`start`: the view the kiosk is showing now; `keep` saves staff's volume."""
        self._load = load
        self.settings = settings
        self._later = later
        self._local_now = local_now
        self._accessible = accessible
        self._root = root
        self._seen = start
        self._keep = keep
        self._loaded: OrderedDict[Path, Sound] = OrderedDict()
        self._voice: Sound | None = None
        self._tone: Sound | None = None
        self._turn = 0  # each cue's number: a prompt waiting for an older cue's tone is dropped
        self.broken: str | None = None  # why the kiosk is silent, once it is

    # --- listening ------------------------------------------------------------------------

    def hear(self, view: View) -> None:
        """A listener of the runtime's views (`Runtime.on_view`)."""
        before, self._seen = self._seen, view
        if before is None:
            return  # the first view is where the kiosk starts, not a change
        try:
            cue = cue_for(before, view, accessible=self._accessible())
        except Exception:  # a fault in sound must never stop a loan: logged, then silent
            log.exception("no cue for this change of view")
            return
        if cue is not None:
            self.play(cue)

    # --- playing --------------------------------------------------------------------------

    def volume(self) -> float:
        """Now, from 0 to 1 (quiet hours applied)."""
        return self.settings.percent_at(self._local_now()) / 100

    def play(self, cue: Cue, *, level: float | None = None) -> None:
        """`level`: this loudness instead of the settings' at this moment."""
        self._turn += 1
        level = self.volume() if level is None else level
        if level <= 0 or self.broken is not None:
            return
        prompt = cue.prompt if self.settings.voice else None
        delay = 0.0
        if cue.tone is not None:
            self._tone = self._start(tone_path(cue.tone, self._root), level, self._tone)
            delay = seconds(cue.tone) + GAP_S
        if prompt is None:
            return
        path = prompt_path(prompt, cue.language, self._root)
        if self._voice is not None:  # a new prompt stops the one before, now, not after the tone
            self._stop(self._voice)
            self._voice = None
        turn = self._turn
        if delay:
            self._later(delay, lambda: self._say(path, turn))
        else:
            self._say(path, turn)

    def set_volume(self, percent: int) -> None:
        """Staff's volume from the admin screen: for the sounds from now on, and kept."""
        percent = max(0, min(100, percent))
        self.settings = replace(self.settings, volume=percent)
        self._keep(percent)

    def test_tone(self) -> None:
        """The admin screen's button: the success tone at the volume set, quiet hours or not,
        so that staff hear what they chose (the dialog says when the kiosk is quieter)."""
        self.play(Cue(Tone.SUCCESS), level=self.settings.volume / 100)

    def _say(self, path: Path, turn: int) -> None:
        if turn != self._turn or self.broken is not None:
            return  # a newer cue came meanwhile
        self._voice = self._start(path, self.volume(), self._voice)

    def _start(self, path: Path, level: float, previous: Sound | None) -> Sound | None:
        if previous is not None:
            self._stop(previous)
        sound = self._sound(path)
        if sound is None:
            return None
        try:
            sound.volume = level
            sound.play()
        except Exception as e:  # noqa: BLE001 - a sound must never stop the kiosk
            self._give_up(f"{path.name} cannot be played: {e}")
            return None
        return sound

    def _sound(self, path: Path) -> Sound | None:
        sound = self._loaded.get(path)
        if sound is not None:
            self._loaded.move_to_end(path)
            return sound
        try:
            sound = self._load(str(path))
        except Exception as e:  # noqa: BLE001
            self._give_up(f"{path.name} cannot be loaded: {e}")
            return None
        # Kivy's SDL2 loader gives a sound of length 0 when the mixer could not be opened.
        if sound is None or not sound.length:
            self._give_up(f"{path.name} cannot be loaded (no sound device?)")
            return None
        self._loaded[path] = sound
        if len(self._loaded) > KEEP_LOADED + len(Tone):
            _, old = self._loaded.popitem(last=False)
            if old is not self._voice and old is not self._tone:
                _unload(old)
        return sound

    def _stop(self, sound: Sound) -> None:
        try:
            sound.stop()
        except Exception as e:  # noqa: BLE001
            self._give_up(f"a sound cannot be stopped: {e}")

    def _give_up(self, why: str) -> None:
        if self.broken is None:
            self.broken = why
            log.warning("sound off until the kiosk restarts: %s", why)


def _unload(sound: Sound) -> None:
    unload = getattr(sound, "unload", None)
    if unload is not None:
        try:
            unload()
        except Exception:  # noqa: BLE001
            pass
