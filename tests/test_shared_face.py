"""kiosk.ui.shared_face draws every label exactly as Kivy's own SDL2 provider does (the same
texture sizes, extents and pixels, plain and markup, at every size of the type scale and
between, with outlines and translucent colours), from one open face of the font for all sizes
where Kivy opens one per size."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.ui


def drawn(which: str, cache) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "tests/shared_face_app.py"), which,
                           str(cache)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_labels_look_the_same_from_one_face(tmp_path):
    kivy, shared = drawn("kivy", tmp_path), drawn("shared", tmp_path)
    assert kivy["provider"] == "LabelSDL2" and shared["provider"] == "SharedFaceLabel"
    assert len(shared["labels"]) == len(kivy["labels"]) > 200
    for ours, theirs in zip(shared["labels"], kivy["labels"]):
        assert ours == theirs
    assert kivy["open_font_files"] >= 10  # a face per size
    assert shared["faces"] == 1 and shared["open_font_files"] == 1
