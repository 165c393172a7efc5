"""Both catalogues translate every message the screens use; formats and dates work."""

import ast
import datetime as dt
import re
import subprocess

import pytest

from kiosk.i18n import LOCALE_DIR, MONTHS, WEEKDAYS, Translator
from tests.conftest import ROOT

# tr(<language expression>, 'id') in kv; in Python read from the syntax tree, so that an id
# split over lines (implicit concatenation, to keep lines <= 100 columns) is still one id.
TR_CALL = re.compile(r"""\btr\(\s*[^,()]*(?:\([^()]*\))?[^,()]*,\s*(['"])(.+?)\1""")


def python_message_ids(source: str) -> set[str]:
    """The literal ids in N_("id"), _("id") and tr(<language>, "id") calls (a function or a
    method)."""
    ids: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        position = {"N_": 0, "tr": 1, "_": 0}.get(name or "")  # _: the kiosk command's words
        if position is not None and len(node.args) > position:
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                ids.add(arg.value)
    return ids


def used_message_ids() -> set[str]:
    ids: set[str] = set()
    for path in ROOT.joinpath("kiosk").rglob("*.kv"):
        ids.update(m.group(2) for m in TR_CALL.finditer(path.read_text(encoding="utf-8")))
    for path in ROOT.joinpath("kiosk").rglob("*.py"):
        ids |= python_message_ids(path.read_text(encoding="utf-8"))
    return ids | set(WEEKDAYS) | set(MONTHS)


def catalogue(language: str) -> dict[str, str]:
    text = (LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, re.M)
    return {k.replace('\\"', '"').replace("\\n", "\n"): v for k, v in pairs if k}


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
    # Chinese characters, or Chinese punctuation alone ("{line}。")
    not_chinese = [k for k, v in entries.items()
                   if not re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", v)]
    assert not_chinese == []


@pytest.mark.parametrize("po", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/kiosk.po")), ids=str)
def test_catalogues_pass_msgfmt_check(po, tmp_path):
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "out.mo"), str(po)], check=True)


def test_translate_with_arguments_and_dates():
    t = Translator()
    assert (t.tr("zh_CN", "This session ends in {seconds} seconds.", seconds=9)
            == "本次服务将在 9 秒后结束。")
    assert t.tr("en", "Language name") == "English" and t.tr("zh_CN", "Language name") == "中文"
    when = dt.datetime(2026, 11, 24, 14, 5)
    assert t.date_time("zh_CN", when) == ("2026年11月24日 星期二", "14:05")
    assert t.date_time("en", when) == ("Tuesday, 24 November 2026", "14:05")


def test_missing_catalogues_are_a_clear_error(tmp_path):
    from kiosk.errors import KioskError
    with pytest.raises(KioskError, match="setup.sh"):
        Translator(tmp_path)
