"""What the patron app holds in memory (issue 20): the real app, in a process of its own
(tests/memory_app.py), shows a QR code and applies a monthly batch without ever importing
cryptography, pinyin dictionaries, OpenCC or qrcode's Pillow drawers, and has each font file
open once, whatever the number of text sizes on its screens."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.ui, pytest.mark.slow]


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    from tests.content_batches import Batches
    return Batches(tmp_path_factory.mktemp("batches"), count=30)


def run_app(batches, *flags: str) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "tests/memory_app.py"),
                           str(batches.first), str(batches.second), str(batches.public),
                           *flags], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_qr_code_and_a_batch_apply_load_no_heavy_library(batches):
    report = run_app(batches)
    assert report["qr_shown"]
    assert report["applied"] == "2026-12-1" and report["showing"] == "2026-12-1"
    assert report["added_qr_shown"]
    assert report["progress"][-1] == 100
    assert report["at_start"] == report["after_qr"] == report["after_apply"] == []
    assert report["fonts_open"] and set(report["fonts_open"].values()) == {1}


def test_a_search_loads_no_pinyin_dictionary(batches):
    """Typed on the search screen, "红l" (a character, then an initial) as well: the catalogue
    holds the readings it needs (content/catalogue.py, format 3)."""
    report = run_app(batches, "--search")
    assert report["searched"] == "ebook_search" and report["query"] == "红l"
    assert report["after_search"] == []
