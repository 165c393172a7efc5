"""Both catalogues translate every message the screens use; formats and dates work."""

import datetime as dt
import re
import subprocess

import pytest

from kiosk.i18n import LOCALE_DIR, MONTHS, WEEKDAYS, Translator
from tests.conftest import ROOT

# tr(<language expression>, 'id') in kv and Python, and N_("id") in Python.
TR_CALL = re.compile(r"""\btr\(\s*[^,()]*(?:\([^()]*\))?[^,()]*,\s*(['"])(.+?)\1""")
MARKED = re.compile(r"""\bN_\(\s*(['"])(.+?)\1\s*\)""")


def used_message_ids() -> set[str]:
    ids: set[str] = set()
    for path in [*ROOT.joinpath("kiosk").rglob("*.kv"), *ROOT.joinpath("kiosk").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        ids.update(m.group(2) for m in TR_CALL.finditer(text))
        ids.update(m.group(2) for m in MARKED.finditer(text))
    return ids | set(WEEKDAYS) | set(MONTHS)


def catalogue(language: str) -> dict[str, str]:
    text = (LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, re.M)
    return {k.replace('\\"', '"'): v for k, v in pairs if k}


def test_the_scan_finds_the_messages_we_know_are_there():
    ids = used_message_ids()
    assert {"Touch the screen to start", "Borrow", "Wrong PIN. Please try again.",
            "Language name", "This session ends in {seconds} seconds."} <= ids


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_message_is_translated(language):
    entries = catalogue(language)
    missing = sorted(i for i in used_message_ids() if not entries.get(i))
    assert not missing, f"{language} lacks: {missing}"


def test_chinese_catalogue_is_really_chinese():
    entries = catalogue("zh_CN")
    assert entries["Borrow"] == "借书"
    not_chinese = [k for k, v in entries.items() if not re.search(r"[\u4e00-\u9fff]", v)]
    assert not_chinese == []


@pytest.mark.parametrize("po", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/kiosk.po")), ids=str)
def test_catalogues_pass_msgfmt_check(po, tmp_path):
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(po)], check=True)


def test_translate_with_arguments_and_dates():
    t = Translator()
    assert t.tr("zh_CN", "This session ends in {seconds} seconds.", seconds=9) == "本次服务将在 9 秒后结束。"
    assert t.tr("en", "Language name") == "English" and t.tr("zh_CN", "Language name") == "中文"
    when = dt.datetime(2026, 11, 24, 14, 5)
    assert t.date_time("zh_CN", when) == ("2026年11月24日 星期二", "14:05")
    assert t.date_time("en", when) == ("Tuesday, 24 November 2026", "14:05")


def test_missing_catalogues_are_a_clear_error(tmp_path):
    from kiosk.errors import KioskError
    with pytest.raises(KioskError, match="setup.sh"):
        Translator(tmp_path)
