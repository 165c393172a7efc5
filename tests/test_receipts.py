"""Receipts as text for a narrow printer and as QR text: layout, wrapping, size, privacy."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from kiosk.receipts import (
    QR_MAX_BYTES,
    Receipt,
    ReceiptLine,
    receipt_qr_text,
    receipt_summary,
    receipt_text,
    shown_patron,
    text_width,
    wrap,
)

PATRON = "23520001234566"
WHEN = dt.datetime(2026, 11, 24, 14, 5)
DUE = dt.date(2026, 12, 24)
LONG_TITLE = "中华人民共和国国家图书馆藏珍贵古籍特展图录，第二辑（上下册）"


def borrowing(*lines: ReceiptLine, patron: str = "**********4566",
              footer: tuple[str, ...] = ("谢谢 Thank you",)) -> Receipt:
    return Receipt("borrow", "醴陵市图书馆", "Liling Library", "liling-lobby-1", WHEN, patron,
                   lines, footer)


SMALL = borrowing(ReceiptLine("红楼梦", "33520000123453", DUE, "borrowed"),
                  ReceiptLine("三国演义", "33520000123460", None, "refused", "on_hold"))


def test_a_chinese_receipt_at_32_columns():
    assert receipt_text(SMALL, "zh_CN", 32) == (
        "          醴陵市图书馆\n"
        "         Liling Library\n"
        "================================\n"
        "借书凭条 Borrowing receipt\n"
        "日期 Date 2026-11-24 14:05\n"
        "自助机 Kiosk liling-lobby-1\n"
        "读者 Patron **********4566\n"
        "--------------------------------\n"
        "1. 红楼梦\n"
        "   33520000123453\n"
        "   已借出 Borrowed\n"
        "   应还日期 Due back 2026-12-24\n"
        "2. 三国演义\n"
        "   33520000123460\n"
        "   未办理 Not done: 已被他人预约\n"
        "   on hold for another reader\n"
        "--------------------------------\n"
        "合计 Items                     2\n"
        "已借出 Borrowed                1\n"
        "未办理 Not done                1\n"
        "--------------------------------\n"
        "谢谢 Thank you\n")


def test_an_english_receipt_at_42_columns():
    assert receipt_text(SMALL, "en", 42) == (
        "              Liling Library\n"
        "==========================================\n"
        "Borrowing receipt\n"
        "Date 2026-11-24 14:05\n"
        "Kiosk liling-lobby-1\n"
        "Patron **********4566\n"
        "------------------------------------------\n"
        "1. 红楼梦\n"
        "   33520000123453\n"
        "   Borrowed\n"
        "   Due back 2026-12-24\n"
        "2. 三国演义\n"
        "   33520000123460\n"
        "   Not done: on hold for another reader\n"
        "------------------------------------------\n"
        "Items                                    2\n"
        "Borrowed                                 1\n"
        "Not done                                 1\n"
        "------------------------------------------\n"
        "谢谢 Thank you\n")


def every_outcome() -> Receipt:
    return borrowing(
        ReceiptLine(LONG_TITLE, "33520000123453", DUE, "borrowed"),
        ReceiptLine("The Hitchhiker's Guide to the Galaxy: the Trilogy in Five Parts",
                    "33520000123461", DUE, "renewed"),
        ReceiptLine("水浒传", "33520000123478", None, "returned"),
        ReceiptLine("西游记", "33520000123486", None, "refused",
                    "Item has 3 parts; bring all of them to the desk please"),
        ReceiptLine("论语", "33520000123494", "20261224    235900", "offline"),
        ReceiptLine("史记", "33520000123502", None, "staff", "security_failed"))


@pytest.mark.parametrize("width", [32, 42, 48])
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_line_is_wider_than_the_paper(language, width):
    text = receipt_text(every_outcome(), language, width)
    assert all(text_width(line) <= width for line in text.splitlines())
    assert "論" not in text and "?" not in text


def test_borrowed_and_renewed_show_the_due_date_and_others_do_not():
    text = " ".join(line.strip() for line in receipt_text(every_outcome(), "en", 48).splitlines())
    assert text.count("Due back 2026-12-24") == 2
    assert "Due back 20261224 235900" in text  # the ILS's own text when it is not a date
    assert "Accepted offline, to be confirmed" in text
    assert "Not done: Item has 3 parts; bring all of them to the desk please" in text
    assert "Please see staff: security tag not cleared" in text


def test_a_long_chinese_title_wraps_whole_characters_and_loses_none():
    text = receipt_text(borrowing(ReceiptLine(LONG_TITLE, "33520000123453", DUE, "borrowed")),
                        "zh_CN", 32)
    lines = text.splitlines()
    start = lines.index("1. 中华人民共和国国家图书馆藏珍")
    title_lines = lines[start:start + 3]
    assert title_lines == ["1. 中华人民共和国国家图书馆藏珍", "   贵古籍特展图录，第二辑（上下",
                           "   册）"]
    assert "".join(line[3:] for line in title_lines) == LONG_TITLE


def test_wrapping_never_starts_a_line_with_closing_punctuation_or_splits_a_word():
    assert wrap("一二三四五六七八九十。", 20) == ["一二三四五六七八九", "十。"]
    assert wrap("borrowing receipts are nice", 12) == ["borrowing", "receipts are", "nice"]
    assert wrap("x" * 25, 10, indent="  ") == ["x" * 10, "  " + "x" * 8, "  " + "x" * 7]
    assert wrap("红a楼", 3) == ["红a", "楼"]  # a wide character never straddles the edge


def test_the_receipt_title_follows_the_kind_and_returns_have_no_patron():
    returned = Receipt("return", "醴陵市图书馆", "", "k1", WHEN, "",
                       (ReceiptLine("红楼梦", "33520000123453", None, "returned"),))
    text = receipt_text(returned, "zh_CN", 32)
    assert text.splitlines()[:3] == ["          醴陵市图书馆", "=" * 32, "还书凭条 Return receipt"]
    assert "Patron" not in text
    assert "续借凭条 Renewal receipt" in receipt_text(
        Receipt("renew", "醴陵市图书馆", "", "k1", WHEN, "****4566", ()), "zh_CN", 32)


def test_bad_receipts_are_refused_clearly():
    with pytest.raises(ValueError, match="kind must be one of borrow, return, renew"):
        Receipt("lend", "", "", "k1", WHEN, "", ())
    with pytest.raises(ValueError, match="outcome must be one of"):
        borrowing(ReceiptLine("红楼梦", "1", None, "ok"))
    with pytest.raises(ValueError, match="at least 24 columns"):
        receipt_text(SMALL, "en", 20)


# --- privacy ------------------------------------------------------------------------------

def test_a_full_patron_number_given_by_mistake_is_masked_everywhere():
    receipt = borrowing(ReceiptLine("红楼梦", "33520000123453", DUE, "borrowed"), patron=PATRON)
    for text in (receipt_text(receipt, "zh_CN", 32), receipt_text(receipt, "en", 48),
                 receipt_qr_text(receipt), receipt_qr_text(receipt, "en")):
        assert PATRON not in text and "0001234566" not in text and "4566" in text
    assert shown_patron(PATRON) == "**********4566"
    assert shown_patron("2352-0001-2345-66") == "**********4566"
    assert shown_patron("**********4566") == "**********4566"


# --- the QR code --------------------------------------------------------------------------

def many(count: int) -> Receipt:
    return borrowing(*(ReceiptLine(f"{LONG_TITLE}{n}", f"3352000{n:07d}", DUE, "borrowed")
                       for n in range(count)), patron=PATRON)


def test_the_qr_text_of_a_small_receipt_lists_every_book():
    assert receipt_qr_text(SMALL) == ("醴陵市图书馆 liling-lobby-1\n"
                                      "借书凭条 2026-11-24 14:05\n"
                                      "读者 ****4566\n"
                                      "应还日期 2026-12-24\n"
                                      "已借出 红楼梦\n"
                                      "未办理 三国演义 (已被他人预约)\n"
                                      "合计 2: 已借出 1 未办理 1")


@pytest.mark.parametrize("count", [30, 2000])
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_qr_text_of_a_long_list_stays_small_and_says_what_it_left_out(count, language):
    text = receipt_qr_text(many(count), language)
    assert len(text.encode("utf-8")) < QR_MAX_BYTES
    lines = text.splitlines()
    listed = sum(1 for line in lines if LONG_TITLE[:5] in line)
    assert 5 <= listed < count
    more = {"zh_CN": f"另有 {count - listed} 册未列出", "en": f"{count - listed} more not listed"}
    assert lines[-2] == more[language]
    assert lines[-1].endswith(f"{count}: {'已借出' if language == 'zh_CN' else 'Borrowed'} {count}")
    assert PATRON not in text


def test_the_qr_text_fits_a_code_a_phone_reads_off_the_screen():
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    code.add_data(receipt_qr_text(many(30)).encode("utf-8"))
    code.make(fit=True)
    assert code.version <= 20


def test_different_due_dates_go_on_each_line():
    receipt = borrowing(ReceiptLine("红楼梦", "1", DUE, "borrowed"),
                        ReceiptLine("论语", "2", dt.date(2027, 1, 7), "renewed"))
    lines = receipt_qr_text(receipt).splitlines()
    assert "已借出 红楼梦 2026-12-24" in lines and "已续借 论语 2027-01-07" in lines
    assert not any(line.startswith("应还日期") for line in lines)


# --- the summary above the preview ----------------------------------------------------------

def test_the_summary_counts_what_was_done_and_says_when_it_is_due():
    three = borrowing(*(ReceiptLine(f"书{n}", str(n), dt.date(2027, 1, 5), "borrowed")
                        for n in range(3)))
    assert receipt_summary(three, "zh_CN") == "借了 3 册 · 应还 2027-01-05"
    assert receipt_summary(three, "en") == "Borrowed 3 · due 2027-01-05"


def test_the_summary_of_a_mixed_session_gives_the_earliest_due_date():
    mixed = borrowing(ReceiptLine("红楼梦", "1", dt.date(2027, 1, 7), "borrowed"),
                      ReceiptLine("论语", "2", "2027-01-05", "renewed"),
                      ReceiptLine("三国演义", "3", None, "refused", "on_hold"),
                      ReceiptLine("活着", "4", None, "offline"))
    assert receipt_summary(mixed, "zh_CN") == \
        "借了 1 册 · 续借 1 册 · 待确认 1 册 · 未办理 1 册 · 最早应还 2027-01-05"
    assert receipt_summary(mixed, "en") == \
        "Borrowed 1 · renewed 1 · to be confirmed 1 · not done 1 · first due 2027-01-05"


def test_a_return_summary_has_no_due_date():
    returned = Receipt("return", "醴陵市图书馆", "Liling Library", "k", WHEN, "",
                       (ReceiptLine("红楼梦", "1", None, "returned"),
                        ReceiptLine("活着", "2", None, "returned"),
                        ReceiptLine("论语", "3", None, "staff", "security_failed")))
    assert receipt_summary(returned, "zh_CN") == "还了 2 册 · 1 册请找工作人员"
    assert receipt_summary(returned, "en") == "Returned 2 · 1 for staff to see"


def test_the_preview_lines_up_in_a_monospaced_font():
    """Every rule and every right-aligned count ends at the same display column (a Chinese
    character is two columns wide in a monospaced CJK font, as on the printer)."""
    for language in ("zh_CN", "en"):
        lines = receipt_text(SMALL, language, 32).splitlines()
        rules = [line for line in lines if set(line) in ({"="}, {"-"})]
        totals = [line for line in lines if re.search(r"\S {2,}\d+$", line)]
        assert rules and totals
        assert {text_width(line) for line in rules + totals} == {32}
