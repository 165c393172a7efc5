"""SIP2 replies are outside bytes: whatever the ILS (or the network) sends, the codec answers
with a Message or an IlsProtocolError, the reply readers never raise, and a message our
encoder builds reads back the same. Property-based, on the one fixed parser budget."""

from datetime import date

from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.sip2 import replies
from kiosk.sip2.codec import Message, decode, encode, parse_datetime, parse_due
from kiosk.sip2.errors import IlsProtocolError
from kiosk.sip2.fields import FIXED
from kiosk.sip2.framing import FrameReader, FrameTooLong
from tests.property_budget import PARSER_BUDGET

CHARSETS = st.sampled_from(["utf-8", "gbk", "cp850"])
# The reply the client reads with each reader, as `Sip2Client` picks it by code.
READERS = {
    "98": lambda m: replies.sc_status(m),
    "64": lambda m: replies.patron(m, "23520001234566"),
    "24": lambda m: replies.patron(m, "23520001234566"),
    "18": lambda m: replies.item(m, "33520000123453"),
    "12": lambda m: replies.checkout(m, "33520000123453"),
    "10": lambda m: replies.checkin(m, "33520000123453"),
    "30": lambda m: replies.renew(m, "33520000123453"),
}
# Text an ILS could send: digits of any script, CJK, the field separator, flags.
SIP_TEXT = st.text(st.sampled_from("0123456789YN |AZAYAHCFBV.-²٣〇 红楼梦\uff10\u0660"),
                   max_size=80)


def decoded_or_refused(data: bytes, charset: str) -> Message | None:
    try:
        return decode(data, charset=charset)
    except IlsProtocolError:
        return None


@PARSER_BUDGET
@given(st.binary(max_size=300), CHARSETS)
def test_any_bytes_decode_to_a_message_or_a_protocol_error(data, charset):
    decoded_or_refused(data, charset)


FLAGS = st.sampled_from("0123456789YN ²٣〇\uff10红")
READ_TAGS = st.sampled_from(["AA", "AB", "AE", "AF", "AH", "AJ", "AO", "AQ", "AS", "AU", "BH",
                             "BL", "BV", "BX", "CF", "CK", "CQ", "CV"])


@st.composite
def replies_text(draw):
    """A reply as an odd ILS writes it: right code and widths, any flags, digits and fields."""
    code = draw(st.sampled_from(sorted(READERS)))
    fixed = "".join(draw(st.text(FLAGS, min_size=width, max_size=width))
                    for _, width in FIXED[code])
    fields = "".join(f"{tag}{value}|" for tag, value in
                     draw(st.lists(st.tuples(READ_TAGS, SIP_TEXT), max_size=8)))
    return code, code + fixed + fields


@PARSER_BUDGET
@given(st.one_of(replies_text(), st.tuples(st.sampled_from(sorted(READERS)),
                                           st.binary(max_size=200))), CHARSETS)
def test_any_reply_with_the_expected_code_is_read_without_raising(case, charset):
    code, rest = case
    data = rest.encode("utf-8") if isinstance(rest, str) else code.encode() + rest
    reply = decoded_or_refused(data, charset)
    if reply is not None and reply.code == code:
        READERS[code](reply)


def fixed_value(width):
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), min_size=width,
                   max_size=width)


FIELD_VALUE = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"),
                      max_size=40)


@st.composite
def messages(draw):
    code = draw(st.sampled_from(sorted(FIXED)))
    fixed = tuple((name, draw(fixed_value(width))) for name, width in FIXED[code])
    tags = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWX"), min_size=2, max_size=2)
    fields = tuple(draw(st.lists(st.tuples(tags, FIELD_VALUE), max_size=6)))
    return Message(code, fixed, fields)


@PARSER_BUDGET
@given(messages(), CHARSETS, st.integers(0, 9))
def test_a_message_the_encoder_builds_reads_back_the_same(msg, charset, seq):
    for _, value in msg.fields:  # the encoder replaces what the charset cannot carry
        assume(value.encode(charset, errors="replace").decode(charset) == value)
        assume(len(value.encode(charset)) <= 255)
    data = encode(msg, charset=charset, seq=seq, with_checksum=True)
    back = decode(data, charset=charset)
    assert back.checksum_ok is True
    assert (back.code, back.fixed, back.fields) == (msg.code, msg.fixed, msg.fields)
    if msg.code not in ("96", "97"):
        assert back.seq == seq
    # One byte changed anywhere is caught by the checksum (or refused as another message).
    for position in range(0, len(data), max(1, len(data) // 7)):
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        reread = decoded_or_refused(bytes(damaged), charset)
        assert reread is None or reread.checksum_ok is not True or reread.fixed != back.fixed \
            or reread.fields != back.fields or reread.code != back.code


@PARSER_BUDGET
@given(st.text(max_size=30))
def test_dates_read_to_a_date_or_nothing(text):
    assert parse_datetime(text) is None or parse_datetime(text).year >= 1
    assert parse_due(text) is None or isinstance(parse_due(text), date)


@PARSER_BUDGET
@given(st.binary(max_size=400).filter(lambda b: b"\r" not in b), st.lists(st.integers(1, 64),
                                                                          min_size=1))
def test_a_valid_frame_after_garbage_is_read(garbage, chunks):
    good = b"9800YYNYN0000002.00AOlib|AY1AZ"
    stream = garbage + b"\r" + good + b"\r"
    pieces, at = [], 0
    for size in chunks * (len(stream) // sum(chunks) + 1):
        pieces.append(stream[at:at + size])
        at += size
    feed = iter([p for p in pieces if p] + [b""])
    reader = FrameReader(lambda _n: next(feed), max_length=200)
    frames = []
    for _ in range(3):
        try:
            frames.append(reader.read_frame())
        except FrameTooLong:
            continue
        if frames[-1] == good:
            break
    assert frames[-1] == good


def test_counts_and_queues_in_other_scripts_digits_read_as_unknown():
    """Found by the property above: '²' passes str.isdigit() and then int() raised."""
    patron = decode("64              00020261201    120000000²0000000000000000000AAy|".encode(),
                    charset="utf-8")
    assert replies.patron(patron, "y").hold_count == 0
    item = decode("1803000120261201    120000CF²|ABx|".encode(), charset="utf-8")
    assert replies.item(item, "x").hold_queue is None
