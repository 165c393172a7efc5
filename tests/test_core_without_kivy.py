"""The core (kiosk/core/) is pure: it imports only the allowed standard library, drivers/events.py,
common/masking.py, common/marks.py and its own modules, and it runs a borrowing to its receipt
with Kivy and every other project module unavailable."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "kiosk" / "core"
CORE_MODULES = sorted("kiosk.core." + p.stem for p in CORE.glob("*.py") if p.stem != "__init__")

# The standard library the core may import: data, text, time and math; `logging` (its own locks
# use threading, which the core never does); hashlib, hmac and os.urandom (only; checked below)
# for the staff PIN hash.
# Never I/O, threads, databases or sockets: threading, queue, socket, sqlite3, subprocess,
# asyncio, multiprocessing, shutil, tempfile, pathlib, io, gettext...
ALLOWED_STDLIB = frozenset({
    "__future__", "collections", "dataclasses", "datetime", "enum", "functools", "hashlib", "hmac",
    "itertools", "logging", "math", "os", "re", "types", "typing", "unicodedata",
})
FORBIDDEN_STDLIB = frozenset({
    "threading", "queue", "socket", "sqlite3", "subprocess", "asyncio", "multiprocessing",
    "shutil", "tempfile", "pathlib", "io", "gettext", "select", "selectors", "concurrent",
    "ssl", "http", "urllib",
})
# Project modules the core may load: its own, the drivers' frozen events, two pure modules of the
# shared base (common/masking.py, which the log formatter uses too, so screen and log mask alike;
# common/marks.py's `N_`, the one message-id marker), and the package __init__ files on the way.
ALLOWED_PROJECT = frozenset({"kiosk", "kiosk.core", "drivers", "drivers.events", "common",
                             "common.masking", "common.marks"})

# Every import outside the standard library is blocked but the core's own modules, the drivers'
# events and the package __init__ files on the way: Kivy, the hardware libraries, and every other
# project module (the config, the receipts' rendering, the SIP2 client...). A circulation runs
# through to its receipt, so the modules it loads late are loaded too.
BLOCKER = """
import sys
ALLOWED = {allowed!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name in sys.stdlib_module_names or name.split('.')[0] in sys.stdlib_module_names:
            return None
        if name in ALLOWED or name.startswith('kiosk.core.'):
            return None
        raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from drivers.events import BarcodeRead, Tag, TagsSeen
from kiosk.core import events as ev
from kiosk.core.circulation_view import CirculationSettings
from kiosk.core.ils_calls import CheckoutReply, PatronRecord
from kiosk.core.session import Session
from kiosk.core.session_view import Settings
s = Session(Settings(circulation=CirculationSettings(ils=True, pin="no")), now=0.0)
s.handle(ev.Start(), 1.0)
print(s.view.screen)
effects = s.handle(BarcodeRead("scanner", "23520001234566", None, "patron"), 2.0)
call = next(e for e in effects if isinstance(e, ev.IlsCall))
s.handle(ev.IlsAnswered(call.token, PatronRecord(valid=True, pin_ok=None)), 3.0)
effects = s.handle(BarcodeRead("scanner", "33520000123453", None, "item"), 4.0)
call = next(e for e in effects if isinstance(e, ev.IlsCall))
s.handle(ev.IlsAnswered(call.token, CheckoutReply(ok=True, title="Red")), 5.0)
s.handle(ev.FinishFlow(), 6.0)
print(s.view.screen)
for name in ('kivy', 'evdev', 'serial', 'kiosk.config', 'kiosk.receipts', 'kiosk.sip2'):
    try:
        __import__(name)
    except ImportError:
        print(name, 'blocked')
"""

# Run isolated (-I -S: no site, no user paths), so the interpreter's own start-up imports are the
# baseline; the allowed standard library is imported next, then every core module.
LOADED = """
import sys
sys.path.insert(0, {root!r})
for name in {stdlib!r}:
    __import__(name)
before = set(sys.modules)
for name in {core!r}:
    __import__(name)
print('\\n'.join(sorted(set(sys.modules) - before)))
"""


def test_core_imports_and_runs_with_kivy_blocked():
    script = BLOCKER.format(allowed=sorted(ALLOWED_PROJECT))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.splitlines()
    assert out == ["home", "receipt", "kivy blocked", "evdev blocked", "serial blocked",
                   "kiosk.config blocked", "kiosk.receipts blocked", "kiosk.sip2 blocked"]


def _project(name: str) -> bool:
    return name.split(".")[0] in ("kiosk", "drivers", "common", "content", "central")


def test_core_loads_only_itself_drivers_events_and_allowed_stdlib():
    script = LOADED.format(root=str(ROOT), stdlib=sorted(ALLOWED_STDLIB - {"__future__"}),
                           core=CORE_MODULES)
    loaded = set(subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True,
                                text=True, check=True, cwd="/").stdout.split())
    project = {name for name in loaded if _project(name)}
    stray = {name for name in project
             if name not in ALLOWED_PROJECT and not name.startswith("kiosk.core.")}
    assert not stray, f"the core loads project modules outside it: {sorted(stray)}"
    stdlib = {name for name in loaded - project if not name.startswith("_")}
    assert not stdlib & FORBIDDEN_STDLIB, sorted(stdlib & FORBIDDEN_STDLIB)
    assert not stdlib, f"stdlib outside the allowed list: {sorted(stdlib)}"


def test_core_sources_import_only_allowed_modules():
    bad = []
    for path in sorted(CORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module in ("kiosk", "drivers"):
                names = [f"{node.module}.{alias.name}" for alias in node.names]  # submodules
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                ok = (name.split(".")[0] in ALLOWED_STDLIB or name in ALLOWED_PROJECT
                      or name.startswith("kiosk.core."))
                if not ok:
                    bad.append(f"{path.name}:{node.lineno} imports {name}")
    assert not bad, bad


def test_core_uses_os_only_for_random_bytes():
    """`os` is allowed for the PIN hash's salt (os.urandom), not for files or processes."""
    uses = sorted({f"{path.name}: os.{node.attr}" for path in CORE.glob("*.py")
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                   and node.value.id == "os" and node.attr != "urandom"})
    uses += [f"{path.name}: from {node.module} import" for path in CORE.glob("*.py")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "os"
             and any(alias.name != "urandom" for alias in node.names)]
    assert not uses, uses
