"""Start-up benchmark baseline: an empty Kivy window set up as the kiosk sets up its own.

What this process holds is the cost of Python, Kivy, SDL and the machine's OpenGL driver, before
any kiosk code; the benchmark subtracts it to show the kiosk's own share.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kiosk.config import DisplaySection  # noqa: E402
from kiosk.ui import boot  # noqa: E402


def main() -> None:
    boot.prepare(DisplaySection())
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.widget import Widget

    def mark(*_args) -> None:
        Window.unbind(on_flip=mark)
        Path(os.environ["KIOSK_FIRST_FRAME_FILE"]).write_text(repr(time.time()))

    class Bare(App):
        def build(self):
            Window.bind(on_flip=mark)
            return Widget()

    Bare().run()


if __name__ == "__main__":
    main()
