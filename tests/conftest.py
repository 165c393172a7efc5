"""Shared test set-up: Kivy kept away from the real home directory and command line; logging
restored after each test."""

import logging
import os
from pathlib import Path

import pytest

# Before anything imports Kivy: no argument parsing, no ~/.kivy, Python logging only.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
# The kiosk command speaks the locale's language (kiosk.i18n.language_from_environment): tests
# read its English on a Chinese desktop too, unless they set a Chinese locale themselves.
for _variable in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
# A parallel worker's own X screen: the one `./setup.sh test` gives xvfb-run.
WORKER_SCREEN = (1280, 800)


def pytest_configure(config):
    """The demo's sample e-book batch is made once per run and shared by every demo started
    (kiosk.demo.sample_batch keeps it in $XDG_CACHE_HOME/kiosk, made under a lock), not once per
    test: the workers of a parallel run (pytest-xdist) inherit the folder from the controller.

    Each worker gets an X server of its own, so that two apps never share a screen: a pointer
    press or a screenshot meant for one window would meet the other's."""
    import tempfile
    if "XDG_CACHE_HOME" not in os.environ:
        config.kiosk_cache = tempfile.mkdtemp(prefix="kiosk-test-cache-")
        os.environ["XDG_CACHE_HOME"] = config.kiosk_cache
    if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("DISPLAY"):
        from tests.own_xvfb import OwnXvfb
        config.worker_x = OwnXvfb(*WORKER_SCREEN)
        os.environ["DISPLAY"] = config.worker_x.display


def pytest_unconfigure(config):
    import shutil
    if getattr(config, "kiosk_cache", None):
        shutil.rmtree(config.kiosk_cache, ignore_errors=True)
    if getattr(config, "worker_x", None):
        config.worker_x.close()


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """A test that runs an entry point in-process (`main([...])`) sets the root logger's handler
    to the stream pytest captured for it; server threads still running later would then write
    to a closed file. Each test leaves the root logger as it found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
