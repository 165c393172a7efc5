"""The admin screen's sound button and its dialog laid out at every window size the kiosk ships
on, in both languages, in one process, through kiosk.ui.layout_check (text clipped, targets
overlapping or under a finger's size, faint text): prints, as JSON, the problems at each size
(tests/test_sound_sizes.py asserts there are none). With a SHOTS folder it saves a screenshot
of the dialog at each size.

    python tests/sound_sizes_app.py SIZE[,SIZE...] [SHOTS]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name in ("KIVY_NO_ARGS", "KIVY_NO_CONFIG", "KIVY_NO_FILELOG"):
    os.environ.setdefault(name, "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")


class Stage:
    """What the panel asks of the admin screen it sits on: the language and translations."""

    def __init__(self, lang: str) -> None:
        from kiosk.i18n import Translator
        self.lang = lang
        self.translator = Translator()

    def tr(self, lang: str, msgid: str, **args: object) -> str:
        return self.translator.tr(lang, msgid, **args)


def frames(count: int) -> None:
    from kivy.base import EventLoop
    for _ in range(count):
        EventLoop.idle()


def main(sizes: str, shots: str = "") -> int:
    from kiosk.config import DisplaySection
    from kiosk.ui import boot
    first = tuple(int(n) for n in sizes.split(",")[0].split("x"))
    boot.prepare(DisplaySection(width=first[0], height=first[1], fullscreen="no"))
    from kivy.core.window import Window
    from kivy.lang import Builder

    import kiosk.ui.widgets  # noqa: F401  (BigButton and InkLabel)
    from kiosk.sound.player import SoundPlayer
    from kiosk.sound.settings import SoundSettings
    from kiosk.ui import typescale
    from kiosk.ui.fonts import use_cjk_font
    from kiosk.ui.layout_check import check
    from kiosk.ui.screens.admin_sound import SoundSettingsPanel
    use_cjk_font(Path(tempfile.mkdtemp(prefix="kiosk-sound-sizes-")))
    for name in ("widgets.kv", "screens/admin_sound.kv"):
        Builder.load_file(str(ROOT / "kiosk/ui" / name))
    player = SoundPlayer(lambda path: None, SoundSettings(volume=70, quiet_hours="22:00-07:00",
                                                          quiet_volume=20, voice=False))

    class Panel(SoundSettingsPanel):
        @staticmethod
        def player():
            return player

    results = {}
    for size in sizes.split(","):
        w, h = (int(n) for n in size.split("x"))
        Window.size = (w, h)
        typescale.configure((w, h))
        for lang in ("zh_CN", "en"):
            # As tall as a finger needs: the admin screen's row sets its height (admin.kv).
            panel = Panel(screen=Stage(lang), lang=lang, pos=(12, 12), size_hint_y=None,
                          height=typescale.PX["target"])
            Window.add_widget(panel)
            panel.refresh()
            panel.open()
            frames(6)
            problems = [f"button: {p}" for p in check(panel, (w, h))]
            problems += [f"dialog: {p}" for p in check(panel.dialog, (w, h))]
            if panel.dialog.ids.box.height > h:
                problems.append(f"dialog: {panel.dialog.ids.box.height} px tall in {h}")
            results[f"{lang}:{size}"] = problems
            if shots:
                Window.screenshot(name=str(Path(shots) / f"sound-dialog-check-{lang}-{size}.png"))
                taken = sorted(Path(shots).glob(f"sound-dialog-check-{lang}-{size}*.png"))[-1]
                taken.replace(Path(shots) / f"sound-dialog-check-{lang}-{size}.png")
            panel.close()
            Window.remove_widget(panel)
            frames(2)
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
