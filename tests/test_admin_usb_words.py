"""What the admin screen's USB panel says of a batch, without a screen: every refusal the
catalogue store names has its words, a "中文 / English" reason shows in one language, a refusal
and a result are said in the screen's language and then in the other, and every standing of a
batch against the catalogue has its row words."""

from __future__ import annotations

import pytest

from content.errors import BatchProblem
from content.store import ApplyReport
from kiosk.i18n import Translator
from kiosk.media.batch_apply import BatchApplied, BatchRefused, Standing
from kiosk.ui.screens.admin_usb import (
    BATCH_PROBLEMS,
    STANDINGS,
    applied_in_both,
    failure_in_both,
    in_language,
    refusal,
)


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


DAMAGED_WHY = "books/1.epub 不是清单所说的 5 字节（已损坏）/ books/1.epub is not 5 bytes"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_refusal_is_said_in_the_screen_s_language_then_in_the_other(lang):
    translator = Translator()
    said = failure_in_both(translator.tr, lang, refusal(BatchRefused(BatchProblem.DAMAGED,
                                                                  DAMAGED_WHY)), "2026-12-1")
    zh = "没有任何改动。"
    zh_at, en_at = said.index(zh), said.index("Nothing was changed. The batch on the stick")
    assert (zh_at < en_at) == (lang == "zh_CN"), said
    assert said.startswith(zh if lang == "zh_CN" else "Nothing was changed."), said
    # Each language carries its own half of the store's reason, and the fix.
    assert "（已损坏）" in said[zh_at:] and "is not 5 bytes" in said[en_at:], said
    assert "is not 5 bytes" not in said[zh_at:][:said[zh_at:].find("Nothing")], said
    assert "Copy it to the stick again" in said and "\n" in said


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_result_is_said_in_the_screen_s_language_then_in_the_other(lang):
    report = ApplyReport("2026-12", "2026-12-1", ["000025"], ["000020"], ["000021", "000022"])
    said = applied_in_both(Translator().tr, lang, BatchApplied(report))
    zh, en = said.index("新增 1 种，更新 1 种，下架 2 种"), said.index(
        "1 titles added, 1 updated, 2 withdrawn")
    assert (zh < en) == (lang == "zh_CN"), said


def test_every_standing_of_a_batch_has_its_row_words_in_both_catalogues():
    assert set(STANDINGS) == set(Standing)
    translator = Translator()
    for standing, msgid in STANDINGS.items():
        args = {"why": "x", "current": "2026-12-1", "first": "2027-01"}
        zh, en = (translator.tr(lang, msgid, **args) for lang in ("zh_CN", "en"))
        assert zh != en and "{" not in zh + en, standing
    assert "--allow-older" in translator.tr("zh_CN", STANDINGS[Standing.OLDER])
