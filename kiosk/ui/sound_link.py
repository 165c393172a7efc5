"""The sound player wired to Kivy: its loader is Kivy's SoundLoader (SDL2's mixer), its "later"
is Kivy's Clock, and the accessibility mode is the app's `accessible` property when the app has
one. Kivy's audio is imported at the first sound, not at start: opening the mixer costs the
first frame nothing. Runs on the Kivy main thread.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kivy.clock import Clock

from kiosk.sound import saved
from kiosk.sound.player import SoundPlayer


def player_for(app: Any) -> SoundPlayer:
    """The app's player: the config's [sound] with staff's saved volume over it."""
    config = app.runtime.config
    path = config.data_dir / saved.FILE_NAME
    return SoundPlayer(
        kivy_load, saved.applied(config.sound, path), later=later,
        accessible=lambda: bool(getattr(app, "accessible", False)),
        start=app.runtime.view, keep=partial(saved.keep, path))


def kivy_load(path: str) -> Any:
    from kivy.core.audio import SoundLoader
    return SoundLoader.load(path)


def later(delay: float, call: Callable[[], None]) -> None:
    Clock.schedule_once(lambda _dt: call(), delay)
