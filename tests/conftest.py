"""Shared test set-up: Kivy kept away from the real home directory and command line."""

import os
from pathlib import Path

# Before anything imports Kivy: no argument parsing, no ~/.kivy, Python logging only.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
