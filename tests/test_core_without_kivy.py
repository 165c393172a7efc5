"""The core must import and run with Kivy and the hardware libraries unavailable."""

import subprocess
import sys

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('kivy', 'evdev', 'serial'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import kiosk.core.session, kiosk.core.events, kiosk.core.pin
from kiosk.core.session import Session, Settings
from kiosk.core import events as ev
s = Session(Settings(), now=0.0)
s.handle(ev.Start(), 1.0)
print(s.view.screen)
try:
    import kivy
except ImportError:
    print('kivy blocked')
"""


def test_core_imports_and_runs_with_kivy_blocked():
    out = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["home", "kivy", "blocked"]
