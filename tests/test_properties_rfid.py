"""Property-based tests of the RFID parsers fed with outside bytes: reader frames (3M 810 and
TI TRF7970A) and tag data. Each parser raises only its documented error, what is built parses
back to itself, and a good frame after any garbage is still read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import BadFrame, ReaderError
from drivers.rfid import m810_frames as m810
from drivers.rfid import tagdata
from drivers.rfid import trf7970a_frames as trf
from drivers.rfid.tagdata.common import HARD_MAX_BYTES
from tests.property_budget import PARSER_BUDGET

UIDS = st.binary(min_size=7, max_size=7).map(lambda raw: "E0" + raw.hex().upper()[:14])
GARBAGE = st.binary(max_size=80)


def frames_out_of(packetizer: m810.Packetizer) -> list[m810.Frame]:
    """Every frame the packetizer finds; a broken one raises BadFrame and is skipped."""
    frames = []
    while True:
        try:
            frame = packetizer.next_frame()
        except BadFrame:
            continue
        if frame is None:
            return frames
        frames.append(frame)


# --- 3M 810 -----------------------------------------------------------------------------------

@PARSER_BUDGET
@given(st.sampled_from([m810.START, m810.SETUP_START]), st.integers(0, 255),
       st.binary(max_size=300))
def test_m810_frames_round_trip(start, command, fields):
    assert m810.parse_frame(m810.build_frame(command, fields, start=start)) == \
        m810.Frame(start, command, fields)


@PARSER_BUDGET
@given(st.binary(max_size=300))
def test_m810_parse_frame_raises_only_bad_frame(raw):
    try:
        m810.parse_frame(raw)
    except BadFrame:
        pass


@PARSER_BUDGET
@given(GARBAGE, st.integers(0, 255), st.binary(max_size=40), st.integers(1, 7))
def test_m810_a_good_frame_after_garbage_is_read(garbage, command, fields, chunk):
    good = m810.build_reply(command, m810.STATUS_OK, fields)
    packetizer = m810.Packetizer(bytes([m810.START, m810.SETUP_START]))
    found = []
    wire = garbage + good
    for at in range(0, len(wire), chunk):  # whatever chunks the port returns
        packetizer.feed(wire[at:at + chunk])
        found += frames_out_of(packetizer)
    while (salvaged := packetizer.salvage()) is not None:  # the link, out of time
        found += [salvaged, *frames_out_of(packetizer)]
    assert m810.Frame(m810.START, command, bytes([m810.STATUS_OK]) + fields) in found


@PARSER_BUDGET
@given(st.integers(0, 255), st.binary(max_size=120), UIDS, st.integers(0, 255),
       st.integers(1, 8))
def test_m810_reply_decoders_raise_only_reader_errors(command, body, uid, first, count):
    frame = m810.Frame(m810.START, command, body)
    for decode in (m810.decode_inventory, lambda f: m810.decode_blocks(f, uid, first, count),
                   lambda f: m810.decode_afi(f, uid), lambda f: m810.check_write_afi(f, uid),
                   m810.decode_version):
        try:
            decode(frame)
        except ReaderError:
            pass


@PARSER_BUDGET
@given(st.lists(UIDS, max_size=20), st.booleans())
def test_m810_inventory_replies_decode_to_their_uids(uids, dsfids):
    options = m810.OPTION_UIDS | (m810.OPTION_DSFID if dsfids else 0)
    entries = b"".join((b"\0" if dsfids else b"") + m810.uid_bytes(uid) for uid in uids)
    frame = m810.parse_frame(m810.build_reply(
        m810.INVENTORY, m810.STATUS_OK, bytes([0, options, len(uids)]) + entries))
    assert m810.decode_inventory(frame) == list(dict.fromkeys(uids))


# --- TI TRF7970A ------------------------------------------------------------------------------

@PARSER_BUDGET
@given(st.integers(0, 255), st.binary(max_size=240))
def test_trf7970a_host_frames_round_trip(command, payload):
    raw = bytes.fromhex(trf.build_frame(command, payload).decode("ascii"))
    assert trf.parse_frame(raw) == trf.Frame(command, payload)


@PARSER_BUDGET
@given(st.binary(max_size=200), st.integers(0, 255), st.binary(max_size=40))
def test_trf7970a_frame_assembler_takes_anything_and_reads_built_frames(garbage, command,
                                                                        payload):
    trf.FrameAssembler().feed(garbage)  # the simulator's side: never raises, whatever it reads
    assert trf.FrameAssembler().feed(trf.build_frame(command, payload)) == [
        trf.Frame(command, payload)]


@PARSER_BUDGET
@given(st.binary(max_size=200), st.lists(UIDS, min_size=1, max_size=5), st.integers(1, 9))
def test_trf7970a_an_inventory_after_any_garbage_and_a_line_end_is_read(garbage, uids, chunk):
    reply = "ISO 15693 Inventory request.\r\n" + "".join(
        f"[{trf.uid_to_air(uid).hex().upper()},6E]\r\n" for uid in uids)
    reader = trf.ReplyReader(results_after="Inventory request")
    wire = garbage + b"\r\n" + reply.encode("ascii")
    for at in range(0, len(wire), chunk):
        reader.feed(wire[at:at + chunk])
    assert trf.decode_inventory(reader.groups).uids == tuple(dict.fromkeys(uids))


@PARSER_BUDGET
@given(st.binary(max_size=300))
def test_trf7970a_board_text_raises_only_reader_errors(text):
    reader = trf.ReplyReader(trf.ping_request(), after_echo=True)
    reader.feed(text)  # never raises
    try:
        trf.decode_inventory(reader.groups)
    except BadFrame:
        pass
    for group in reader.groups:
        try:
            reply = trf.decode_tag_reply(group)
            body = trf.tag_body(reply, "E004015000000001", trf.GET_SYSTEM_INFO)
            trf.decode_system_info(body, "E004015000000001")
        except ReaderError:
            pass


@PARSER_BUDGET
@given(st.binary(max_size=40), UIDS, st.integers(0, 64), st.integers(0, 2 ** 64 - 1))
def test_trf7970a_tag_reply_decoders_raise_only_reader_errors(data, uid, bits, value):
    reply = trf.TagReply(data)
    for decode in (lambda: trf.decode_found(reply, value & ((1 << bits) - 1), bits),
                   lambda: trf.decode_blocks(trf.tag_body(reply, uid, 0x23), uid, 2),
                   lambda: trf.decode_system_info(data, uid)):
        try:
            decode()
        except ReaderError:
            pass


# --- tag data ---------------------------------------------------------------------------------

@PARSER_BUDGET
@given(st.binary(max_size=160), st.sampled_from([None, 0x00, 0x06, 0x3E, 0x99]))
def test_tag_data_decodes_anything_without_a_decoder_error(memory, dsfid):
    content = tagdata.decode(memory, dsfid)
    assert content.error != "tag data could not be decoded"  # the catch-all for decoder bugs
    assert (content.item_id is None) == (content.error is not None) or content.item_id


@PARSER_BUDGET
@given(st.binary(max_size=160))
def test_tag_data_size_is_bounded(prefix):
    assert 0 <= tagdata.bytes_wanted(prefix) <= HARD_MAX_BYTES


ITEM_IDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1,
                   max_size=16)
ISILS = st.builds("{}-{}".format, st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
                  st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                          min_size=1, max_size=8))
USAGES = st.sampled_from(["circulating", "not_for_circulation", "acquisition", "discarded"])


@PARSER_BUDGET
@given(st.sampled_from(["iso28560-3", "iso28560-2"]), ITEM_IDS, st.none() | ISILS, USAGES,
       st.integers(1, 9), st.integers(1, 9))
def test_tag_data_round_trips(model, item_id, isil, usage, part, parts):
    part, parts = min(part, parts), max(part, parts)
    memory = tagdata.encode(model, item_id=item_id, isil=isil, usage=usage, part=part,
                            parts=parts)
    content = tagdata.decode(memory, tagdata.DSFID[model])
    assert (content.item_id, content.isil, content.usage, content.part, content.parts,
            content.model, content.error) == (item_id, isil, usage, part, parts, model, None)


@PARSER_BUDGET
@given(ITEM_IDS, st.integers(1, 15), st.integers(1, 15))
def test_3m_tag_data_round_trips(item_id, part, parts):
    part, parts = min(part, parts), max(part, parts)
    memory = tagdata.encode("3m", item_id=item_id, part=part, parts=parts)
    content = tagdata.decode(memory)
    assert (content.item_id, content.part, content.parts, content.model, content.error) == \
        (item_id, part, parts, "3m", None)


@PARSER_BUDGET
@given(st.sampled_from(["iso28560-3", "iso28560-2", "3m"]), ITEM_IDS,
       st.lists(st.tuples(st.integers(0, 111), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, 112), st.booleans())
def test_damaged_tag_data_decodes_without_a_decoder_error(model, item_id, changes, keep, dsfid):
    isil = None if model == "3m" else "CN-430281"
    memory = bytearray(tagdata.encode(model, item_id=item_id, isil=isil).ljust(112, b"\0"))
    for at, value in changes:
        memory[at] = value
    damaged = bytes(memory[:keep])
    content = tagdata.decode(damaged, tagdata.DSFID[model] if dsfid else None)
    assert content.error != "tag data could not be decoded"
    assert 0 <= tagdata.bytes_wanted(damaged) <= HARD_MAX_BYTES
