"""The SIP2 codec, framing and flag tables: pure functions hammered with bytes."""

from datetime import date, datetime, timezone

import pytest

from kiosk.sip2 import build, replies
from kiosk.sip2.codec import (
    BLANK_DATE,
    Message,
    checksum,
    decode,
    encode,
    message,
    parse_due,
    render,
    sip_date,
)
from kiosk.sip2.errors import IlsBadRequest, IlsProtocolError
from kiosk.sip2.fields import BLOCK_KEYS, block_keys, patron_status_flags, supported_codes
from kiosk.sip2.framing import FrameReader, FrameTooLong, StreamClosed
from kiosk.sip2.settings import IlsSettings

PUBLISHED = b"09N20160419    12200820160419    122008APReading Room 1|AO830|AB830$28170815|AC|AY2AZ"


def test_the_published_checksum():
    assert checksum(PUBLISHED) == "EB80"
    msg = decode(PUBLISHED + b"EB80", charset="cp850")
    assert (msg.seq, msg.checksum, msg.checksum_ok) == (2, "EB80", True)
    assert decode(PUBLISHED + b"EB81", charset="cp850").checksum_ok is False


def test_encoding_the_published_message_gives_its_bytes():
    msg = message("09", {"no_block": "N", "transaction_date": "20160419    122008",
                         "return_date": "20160419    122008"},
                  [("AP", "Reading Room 1"), ("AO", "830"), ("AB", "830$28170815"), ("AC", "")])
    assert encode(msg, charset="cp850", seq=2, with_checksum=True) == PUBLISHED + b"EB80"
    assert encode(msg, charset="cp850", seq=None, with_checksum=False) == PUBLISHED[:-5]


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_the_checksum_is_over_encoded_bytes_for_chinese_titles(charset):
    msg = message("18", {"circulation_status": "03", "security_marker": "00", "fee_type": "01",
                         "transaction_date": "20261201    120000"},
                  [("AB", "33520000123453"), ("AJ", "红楼梦")])
    data = encode(msg, charset=charset, seq=5, with_checksum=True)
    assert "红楼梦".encode(charset) in data
    body = data[:-4]
    assert data[-4:].decode() == checksum(body)
    by_characters = f"{-sum(map(ord, body.decode(charset))) & 0xFFFF:04X}"
    assert by_characters != checksum(body)  # the classic bug gives another number
    back = decode(data, charset=charset)
    assert back.checksum_ok and back.first("AJ") == "红楼梦" and back.seq == 5


def test_gbk_text_is_decoded_before_it_is_split_at_bars():
    # 亅 is 0x81 0x7C in GBK: its second byte is '|'.
    data = "18030001" "20261201    120000" "AB3352|AJ亅书|AQ架|".encode("gbk")
    msg = decode(data, charset="gbk")
    assert msg.first("AJ") == "亅书" and msg.first("AQ") == "架"


def test_text_that_does_not_decode_is_replaced_never_raised():
    data = b"18030001" b"20261201    120000" b"AB1|AJ\xff\xfe\x81|"
    assert "\ufffd" in decode(data, charset="utf-8").first("AJ")
    assert "\ufffd" in decode(data, charset="gbk").first("AJ")


def test_unknown_fields_are_ignored_and_repeated_ones_kept():
    data = (b"64              00020261201    120000000000020000000000000000"
            b"AOlib|AA2352|AEWang|PAevergreen|AUone|AUtwo|AFhello|AFworld|ZZ?|")
    msg = decode(data, charset="utf-8")
    info = replies.patron(msg, "2352")
    assert info.charged == ("one", "two") and info.screen_message == ("hello", "world")
    assert msg.first("PA") == "evergreen" and info.name == "Wang"


def test_a_missing_last_bar_and_lowercase_checksums_are_accepted():
    body = b"941AY3AZ"
    msg = decode(body + checksum(body).lower().encode(), charset="utf-8")
    assert msg.checksum_ok and msg.seq == 3 and msg.get("ok") == "1"
    unfinished = decode(b"18030001" b"20261201    120000AB1|AJlast", charset="utf-8")
    assert unfinished.first("AJ") == "last"


@pytest.mark.parametrize("data", [b"", b"9", b"XX123", b"12", b"64   short"])
def test_garbage_is_a_protocol_error(data):
    with pytest.raises(IlsProtocolError):
        decode(data, charset="utf-8")


def test_values_that_would_break_the_frame_are_refused():
    for bad in ("a|b", "a\rb", "a\nb"):
        with pytest.raises(IlsBadRequest):
            encode(build.item_information(IlsSettings(), bad, datetime.now()), charset="utf-8",
                   seq=0, with_checksum=True)
    with pytest.raises(IlsBadRequest):
        encode(build.item_information(IlsSettings(), "9" * 256, datetime.now()), charset="utf-8",
               seq=0, with_checksum=True)


def test_secrets_never_show_and_patrons_are_masked_on_request():
    settings = IlsSettings(username="kiosk", password="s3cret", terminal_password="term")
    shown = render(build.login(settings))
    assert "s3cret" not in shown and "COs3cret" not in shown and "CO****|" in shown
    checkout = build.checkout(settings, "23520001234566", "33520000123453", "1234",
                              no_block=False, when=datetime(2026, 12, 1, 9, 30))
    assert "1234|" not in render(checkout) and "AA23520001234566" in render(checkout)
    assert "AA**********4566|" in render(checkout, mask_patron=True)


def test_sequence_numbers_are_one_digit_and_97_has_none():
    data = encode(build.resend(), charset="utf-8", seq=None, with_checksum=True)
    assert data.startswith(b"97AZ") and len(data) == 8
    with pytest.raises(ValueError):
        encode(build.sc_status(), charset="utf-8", seq=10, with_checksum=True)


def test_dates_are_local_18_characters_and_due_dates_parse_in_both_forms():
    assert sip_date(datetime(2026, 1, 2, 3, 4, 5)) == "20260102    030405"
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    local = aware.astimezone().replace(tzinfo=None)
    assert sip_date(aware) == local.strftime("%Y%m%d    %H%M%S")
    assert parse_due("20261231    235959") == date(2026, 12, 31)
    assert parse_due("20261231   Z235959") == date(2026, 12, 31)
    assert parse_due("2026-12-31") == date(2026, 12, 31)
    assert parse_due("2026-12-31 23:59") == date(2026, 12, 31)
    assert parse_due(BLANK_DATE) is None and parse_due("") is None
    assert parse_due("next Tuesday") is None and parse_due("20261341    000000") is None


def test_the_no_due_date_quirk_and_empty_optional_fields():
    when = datetime(2026, 12, 1, 9, 30)
    blanks = build.checkout(IlsSettings(), "2", "3", None, no_block=True, when=when)
    assert blanks.get("nb_due_date") == BLANK_DATE and blanks.get("no_block") == "Y"
    dated = build.checkout(IlsSettings(no_due_date="transaction_date"), "2", "3", None,
                           no_block=False, when=when)
    assert dated.get("nb_due_date") == dated.get("transaction_date") == "20261201    093000"
    # AC is required in a checkout and sent empty; AD (the PIN) is optional.
    assert [tag for tag, _ in blanks.fields] == ["AO", "AA", "AB", "AC"]
    sent = build.checkout(IlsSettings(empty_fields="send"), "2", "3", "", no_block=False, when=when)
    assert [tag for tag, _ in sent.fields] == ["AO", "AA", "AB", "AC", "AD"]
    login = build.login(IlsSettings(username="u", password="p"))
    assert [tag for tag, _ in login.fields] == ["CN", "CO"]  # no empty CP


def test_fixed_fields_are_in_spec_order():
    msg = message("63", {"summary": "  Y       ", "transaction_date": "20261201    093000",
                         "language": "000"})
    assert encode(msg, charset="utf-8", seq=None, with_checksum=False) == \
        b"6300020261201    093000  Y       "
    with pytest.raises(ValueError):
        message("63", {"language": "000"})


def test_the_fourteen_patron_status_flags():
    assert block_keys(" " * 14) == () and block_keys("N" * 14) == ()
    assert block_keys("Y" * 14) == BLOCK_KEYS
    assert block_keys("Y   Y     Y   ") == ("charge_denied", "card_lost", "excessive_fines")
    assert block_keys("YN") == ("charge_denied",)  # short fields do not crash
    assert block_keys(patron_status_flags(["too_many_billed", "renewal_denied"])) == \
        ("renewal_denied", "too_many_billed")
    with pytest.raises(ValueError):
        patron_status_flags(["rude"])


def test_bx_empty_means_everything():
    assert supported_codes("") == supported_codes(" " * 16) == supported_codes("Y" * 16)
    assert supported_codes("YYYNYYYYYNYNNNYN") == {"23", "11", "09", "99", "97", "93", "63",
                                                    "35", "17", "29"}


def test_replies_read_into_results():
    sc = replies.sc_status(decode(b"98YYNYNN030003" b"20261201    1200002.00"
                                  b"AOlib|AMLiling|BXYYYNYYYYYNNNNNNN|", charset="utf-8"))
    assert (sc.online, sc.checkin_ok, sc.checkout_ok, sc.renewal_ok, sc.offline_ok) == \
        (True, True, False, True, False)
    assert "17" not in sc.supported and "63" in sc.supported and sc.library_name == "Liling"
    item = replies.item(decode(b"180402" b"01" b"20261201    120000"
                               b"CF2|AH20261231    235959|AB9|AJT|CK009|", charset="utf-8"), "9")
    assert (item.circulation, item.hold_queue, item.due, item.media_type) == \
        ("charged", 2, "20261231    235959", "009")
    out = replies.checkout(decode(b"121NUY20261201    120000AOl|AA2|AB3|AJt|AH2026-12-31|BV0.00|",
                                  charset="utf-8"), "3")
    assert out.ok and out.desensitize is True and out.magnetic is None
    assert out.due_date == date(2026, 12, 31) and out.fee == ""
    back = replies.checkin(decode(b"101YNY20261201    120000AOl|AB3|AQshelf|CV01|CLHOLD|",
                                  charset="utf-8"), "3")
    assert back.alert and back.alert_type == "01" and back.sort_bin == "HOLD"


# --- framing --------------------------------------------------------------------------------

def reader_over(*chunks, **kwargs):
    pieces = list(chunks)
    return FrameReader(lambda n: pieces.pop(0) if pieces else b"", **kwargs)


def test_frames_end_at_cr_and_crlf_and_stray_lf_are_accepted():
    reader = reader_over(b"941\r\n98YY", b"Y\r\n\r", b"\n941\r")
    assert [reader.read_frame() for _ in range(3)] == [b"941", b"98YYY", b"941"]
    with pytest.raises(StreamClosed):
        reader.read_frame()


def test_a_strict_reader_keeps_the_lf_for_its_caller():
    reader = reader_over(b"99\r\n99\r", tolerant=False)
    assert reader.read_frame() == b"99" and reader.read_frame() == b"\n99"


def test_a_frame_without_end_is_bounded():
    reader = reader_over(*[b"x" * 1000] * 10, max_length=4000)
    with pytest.raises(FrameTooLong):
        reader.read_frame()


def test_a_connection_closed_mid_frame():
    with pytest.raises(StreamClosed):
        reader_over(b"94").read_frame()


def test_message_accessors():
    msg = Message("94", (("ok", "1"),), (("AF", "a"), ("AF", "b")))
    assert msg.get("ok") == "1" and msg.all("AF") == ("a", "b") and msg.first("AG", "-") == "-"
    with pytest.raises(KeyError):
        msg.get("nope")
