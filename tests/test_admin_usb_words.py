"""What the admin screen's USB panel says of a batch refusal, without a screen: every refusal
the catalogue store names has its words, and a "中文 / English" reason shows in one language."""

from __future__ import annotations

import pytest

from content.errors import BatchProblem
from kiosk.i18n import Translator
from kiosk.ui.screens.admin_usb import BATCH_PROBLEMS, in_language


def test_every_refusal_of_the_store_is_worded_with_what_to_do():
    assert set(BATCH_PROBLEMS) == set(BatchProblem)
    translator = Translator()
    for problem, msgid in BATCH_PROBLEMS.items():
        zh = translator.tr("zh_CN", msgid, why="x", current="2026-12-1")
        assert zh != msgid and "{" not in zh, problem


@pytest.mark.parametrize("lang, why, shown", [
    ("zh_CN", "books/1.epub 不是清单所说的 5 字节（已损坏）/ books/1.epub is not 5 bytes",
     "books/1.epub 不是清单所说的 5 字节（已损坏）"),
    ("zh_CN", "批次里没有 manifest.json / the batch has no manifest.json",
     "批次里没有 manifest.json"),
    ("en", "批次里没有 manifest.json / the batch has no manifest.json",
     "the batch has no manifest.json"),
    ("zh_CN", "manifest.json is not a JSON object", "manifest.json is not a JSON object"),
    ("en", "covers/a / b.jpg is a link", "covers/a / b.jpg is a link"),  # no Chinese: as it is
])
def test_a_two_language_reason_shows_in_the_screen_s_language(lang, why, shown):
    assert in_language(lang, why) == shown
