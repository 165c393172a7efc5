"""The TI TRF7970A board: its frame codec and reply parser hammered with text, the simulator on its
own, then the real link against the simulator over real ptys (unpaced, except one test at the
board's 115200 baud)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import serial

from drivers.errors import BadFrame, NotSupported, ReaderError, ReaderTimeout, TagNotAnswering
from drivers.rfid.trf7970a import Trf7970aLink
from drivers.rfid.trf7970a_frames import (
    INVENTORY,
    ISO_INVENTORY,
    LOCKS,
    MAX_BLOCKS_PER_READ,
    NXP_RESET_EAS,
    READ_MULTIPLE_BLOCKS,
    REQUEST,
    WRITE_AFI,
    Cut,
    Frame,
    FrameAssembler,
    InventoryResult,
    ReplyReader,
    TagReply,
    build_frame,
    decode_found,
    decode_inventory,
    decode_system_info,
    decode_tag_reply,
    eas_request,
    firmware_request,
    inventory_request,
    iso15693_setup_requests,
    iso_request,
    mask_bytes,
    masked_inventory_request,
    parse_frame,
    ping_request,
    read_blocks_request,
    register_write_request,
    system_info_request,
    tag_body,
    uid_from_air,
    uid_to_air,
    write_afi_request,
)
from drivers.sim.pty_port import PtyDevice
from drivers.sim.rfid_pad import LineFault, Op, SimPad, SimTag
from drivers.sim.trf7970a import FIRMWARES, Trf7970aSimulator, start_trf7970a_sim

H = bytes.fromhex
UID = "E00401003123AA26"  # the tag in Biblio::RFID's docs
UID_AIR = "26AA2331000104E0"  # the same, least significant byte first, as on air
TAGIT = "E007000012345678"  # a TI Tag-it tag
# Twelve books whose UIDs share their low nibble: all collide in the board's first slot.
BOOKS = [f"E0040150000000{n:X}0" for n in range(1, 13)]
DISTINCT = "E004015000000001"  # alone in slot 1


# --- frames ------------------------------------------------------------------------------

CAPTURED = (  # requests public clients send to real boards, byte for byte
    "0108000304FF0000",  # ping (digibib/rfidgeek rfidcodes.txt, pyrfidgeek)
    "010C00030410002101000000",  # register write 00=21 01=00 (rfidcodes.txt)
    "0109000304F0000000",  # AGC (rfidcodes.txt)
    "0109000304F1FF0000",  # AM input (rfidcodes.txt)
    "010B000304142401000000",  # 1-slot inventory (node_rfidgeek univelop_500b.json)
    "010B000304140401000000",  # 16-slot inventory, low data rate (rfidcodes.txt)
    "010C00030418002301020000",  # read multiple blocks, unaddressed (rfidcodes.txt)
)


@pytest.mark.parametrize("captured", CAPTURED)
def test_frames_public_clients_send_parse_and_rebuild_byte_for_byte(captured):
    frame = parse_frame(H(captured))
    assert build_frame(frame.command, frame.payload) == captured.encode("ascii")


def test_captured_frames_mean_what_the_clients_said():
    assert parse_frame(H(CAPTURED[0])) == Frame(0xFF, b"")
    assert register_write_request(((0x00, 0x21), (0x01, 0x00))) == CAPTURED[1].encode()
    assert parse_frame(H(CAPTURED[4])) == Frame(INVENTORY, H("24 01 00"))


@pytest.mark.parametrize("request_text, expected", [
    (ping_request(), "0108000304FF0000"),
    (firmware_request(), "0108000304FE0000"),
    (iso15693_setup_requests()[0], "010C00030410002101020000"),  # RF on, ISO 15693 high rate
    (iso15693_setup_requests()[1], "0109000304F0000000"),
    (iso15693_setup_requests()[2], "0109000304F1FF0000"),
    (inventory_request(), "010B000304140601000000"),  # 16 slots, high data rate
    (inventory_request(afi=0x07), "010C00030414160107000000"),
    (masked_inventory_request(0, 0), "010B000304182601000000"),
    (masked_inventory_request(0x5, 3), "010C00030418260103050000"),
    (masked_inventory_request(0xA53, 12), "010D0003041826010C530A0000"),
    (read_blocks_request(UID, 0, 8), "0114000304182223" "26AA2331000104E000070000"),
    (read_blocks_request(UID.lower(), 8, 1), "0114000304182223" "26AA2331000104E008000000"),
    (system_info_request(UID), "011200030418222B" "26AA2331000104E00000"),
    (write_afi_request(UID, 0xC2), "0113000304182227" "26AA2331000104E0C20000"),
    (write_afi_request(TAGIT, 0xC2), "0113000304186227" "78563412000007E0C20000"),  # option flag
    (eas_request(UID, 0xA2), "01130003041822A204" "26AA2331000104E00000"),
    (eas_request(UID, 0xA3), "01130003041822A304" "26AA2331000104E00000"),
    (eas_request(UID, 0xA5), "01130003041822A504" "26AA2331000104E00000"),
])
def test_each_request_the_link_sends_has_exact_text(request_text, expected):
    assert request_text == expected.encode("ascii")


def test_requests_refuse_what_must_never_be_sent_or_cannot_be():
    for command in LOCKS:  # lock AFI 28, lock EAS A4 and the rest
        with pytest.raises(ValueError, match="lock"):
            iso_request(0x22, command, H(UID_AIR))
    with pytest.raises(ValueError):
        eas_request(UID, 0xA4)
    with pytest.raises(NotSupported):
        eas_request(TAGIT, 0xA2)  # Tag-it has no NXP EAS bit
    with pytest.raises(ValueError):
        read_blocks_request(UID, 0, MAX_BLOCKS_PER_READ + 1)
    with pytest.raises(ValueError):
        read_blocks_request(UID, 0, 0)
    with pytest.raises(ValueError):
        write_afi_request(UID, 0x100)
    with pytest.raises(ValueError):
        uid_to_air("E004")
    with pytest.raises(ValueError):
        build_frame(REQUEST, bytes(250))  # the board reads one length byte


def test_uids_travel_least_significant_byte_first():
    assert uid_to_air(UID) == H(UID_AIR)
    assert uid_from_air(H(UID_AIR)) == UID
    with pytest.raises(BadFrame):
        uid_from_air(H("E00401003123AA26"))  # printed order is not air order


def test_masks_are_low_uid_bits_padded_to_bytes_least_significant_first():
    assert mask_bytes(0, 0) == b""
    assert mask_bytes(0x3, 4) == H("03")
    assert mask_bytes(0xA53, 12) == H("53 0A")
    assert mask_bytes(1 << 63, 64) == H("00 00 00 00 00 00 00 80")
    with pytest.raises(ValueError):
        mask_bytes(0x10, 4)


@pytest.mark.parametrize("raw", [
    H("01 07 00 03 04 FF 00"),  # too short
    H("01 09 00 03 04 FF 00 00"),  # length says one byte more
    H("01 08 00 03 05 FF 00 00"),  # not 03 04
    H("01 08 00 03 04 FF 00 01"),  # no 00 00 at the end
    H("02 08 00 03 04 FF 00 00"),  # no SOF
])
def test_parse_frame_rejects_broken_frames(raw):
    with pytest.raises(BadFrame):
        parse_frame(raw)


def test_frame_assembler_takes_a_frame_one_character_at_a_time():
    assembler = FrameAssembler()
    text = inventory_request()
    for char in text[:-1]:
        assert assembler.feed(bytes([char])) == []
    assert assembler.feed(text[-1:]) == [Frame(INVENTORY, H("06 01 00"))]
    assert assembler.skipped == 0


def test_frame_assembler_skips_noise_and_resyncs_after_a_false_start():
    assembler = FrameAssembler()
    # "xyz\r\n" is not hex; "0103" claims a 3-byte frame, impossible; lower case is fine.
    frames = assembler.feed(b"xyz\r\n0103" + ping_request().lower() + firmware_request())
    assert frames == [Frame(0xFF, b""), Frame(0xFE, b"")]
    assert assembler.skipped == 5 + 4  # the text, then the false start "0103"


# --- what the board prints ---------------------------------------------------------------

def read(text: str, request: bytes = b"") -> ReplyReader:
    reader = ReplyReader(request)
    reader.feed(text.encode("latin-1"))
    return reader


CLASSIC_INVENTORY = (  # older firmware: echo, header, every slot, a sub-round for slot 0
    "010B000304140601000000\r\nISO 15693 Inventory request.\r\n"
    + "[z,7F]\r\n" + "[01000000500104E0,6E]\r\n" + "[,40]\r\n" * 14
    + "[,40]\r\n" + "[10000000500104E0,6E]\r\n" + "[20000000500104E0,6E]\r\n" + "[,40]\r\n" * 13)


def test_a_classic_inventory_with_a_collision_the_board_resolved():
    reader = read(CLASSIC_INVENTORY, inventory_request())
    assert reader.echoed and reader.lines == ["ISO 15693 Inventory request."]
    assert reader.noise == 0
    result = decode_inventory(reader.groups)
    assert result == InventoryResult(("E004015000000001", "E004015000000010",
                                      "E004015000000020"), slots=32, collisions=1)
    assert result.resolved


def test_a_collision_without_its_sub_round_is_not_resolved():
    lines = "[z,7F]\r\n" + "[01000000500104E0,6E]\r\n" + "[,40]\r\n" * 14
    result = decode_inventory(read(lines).groups)
    assert (result.uids, result.slots, result.collisions, result.resolved) == \
        (("E004015000000001",), 16, 1, False)


def test_a_2013_inventory_prints_only_the_tags_found():
    text = "ISO 15693 Inventory request.\r\n\r\n[01000000500104E0,6E]\r\n[10000000500104E0,5A]\r\n"
    result = decode_inventory(read(text).groups)
    assert result.uids == ("E004015000000001", "E004015000000010") and result.resolved


def test_bare_collision_and_empty_markers_and_repeats():
    groups = read("[z][][,40][01000000500104E0,6E][01000000500104E0,70]").groups
    assert decode_inventory(groups) == InventoryResult(("E004015000000001",), 5, 1)


@pytest.mark.parametrize("line", [
    "[0100000050010,6E]",  # a UID too short
    "[01000000500104E0,6G]",  # RSSI not hex
    "[01000000500104E1,6E]",  # not an ISO 15693 UID (E0 last in air order)
    "[01000000500104E0,6E,00]",  # a field too many
    "[01000000500104E0,6",  # cut off by the line end
])
def test_inventory_lines_that_do_not_parse_are_bad_frames(line):
    with pytest.raises(BadFrame):
        decode_inventory(read(line + "\r\n").groups)


def test_the_reader_counts_noise_and_notices_cut_and_unfinished_groups():
    reader = read("\x00\xff\x13Request mode.\r\nnoise\r\n[0012[00]\r\n[00AB")
    assert reader.lines == ["Request mode."]
    assert reader.noise == 3 + len("noise") and reader.noise_lines == ["noise"]
    assert reader.groups == [Cut("0012"), "00"]
    assert reader.open_group


def test_the_echo_is_recognised_even_after_the_firmwares_first_words():
    reader = read("Reader enabled.0108000304FF0000\r\nTRF7970A EVM \r\n", ping_request())
    assert reader.echoed and reader.line_with("EVM") == "TRF7970A EVM" and reader.noise == 0


def test_after_the_echo_only_what_follows_this_requests_echo_counts():
    late = f"{read_blocks_request(UID, 0, 1).decode()}\r\nRequest mode.\r\n[0011223344]"
    ours = f"{system_info_request(UID).decode()}\r\nRequest mode.\r\n[00AA]"
    reader = ReplyReader(system_info_request(UID), after_echo=True)
    reader.feed((late + ours).encode())
    assert reader.echoed and reader.groups == ["00AA"] and reader.lines == ["Request mode."]
    assert reader.noise == 40 + 13 + 12  # the other request's echo, its line, its bracket
    unanchored = read(late + ours, system_info_request(UID))
    assert unanchored.groups == ["0011223344", "00AA"]  # what the link used to take


def test_tag_replies_map_to_data_silence_collision_and_errors():
    assert decode_tag_reply("0011223344") == TagReply(H("00 11 22 33 44"))
    assert tag_body(decode_tag_reply("0011223344"), UID, 0x20) == H("11 22 33 44")
    with pytest.raises(TagNotAnswering):
        tag_body(decode_tag_reply(""), UID, 0x23)
    with pytest.raises(BadFrame, match="collision"):
        tag_body(decode_tag_reply("z"), UID, 0x23)
    with pytest.raises(ReaderError, match="error 10: block not available") as refused:
        tag_body(decode_tag_reply("0110"), UID, 0x23)
    assert not isinstance(refused.value, (TagNotAnswering, BadFrame))
    for bad in ("0G", "001", Cut("00")):
        with pytest.raises(BadFrame):
            decode_tag_reply(bad)


def test_system_information_gives_the_afi_and_the_memory_layout():
    body = H("0F") + H(UID_AIR) + H("00 C2 1B 03 01")  # DSFID, AFI, 28 blocks of 4, IC ref
    info = decode_system_info(body, UID)
    assert (info.dsfid, info.afi, info.blocks, info.block_size, info.ic_reference) == \
        (0x00, 0xC2, 28, 4, 0x01)
    assert decode_system_info(H("02") + H(UID_AIR) + H("07"), UID).afi == 0x07  # AFI alone
    with pytest.raises(BadFrame, match="asked"):
        decode_system_info(body, "E004015000000001")
    with pytest.raises(BadFrame, match="do not fit"):
        decode_system_info(H("0F") + H(UID_AIR) + H("00 C2"), UID)


def test_a_masked_inventory_reply_must_fit_its_mask():
    reply = TagReply(H("00 00") + uid_to_air("E004015000000010"))
    assert decode_found(reply, 0x0, 4) == "E004015000000010"
    with pytest.raises(BadFrame):
        decode_found(reply, 0x1, 4)


# --- the simulator on its own ------------------------------------------------------------

def make_pad(*uids: str) -> SimPad:
    pad = SimPad()
    for number, uid in enumerate(uids):
        memory = bytearray((number * 7 + i) % 256 for i in range(112))
        pad.tags[uid] = SimTag(uid, memory, afi=0x07)
    return pad


def set_up(simulator: Trf7970aSimulator) -> None:
    for request in iso15693_setup_requests():
        simulator.reply_to(request)


def test_simulator_prints_every_slot_like_the_classic_firmware():
    pad = make_pad(DISTINCT)
    pad.place(DISTINCT)
    simulator = Trf7970aSimulator(pad)
    set_up(simulator)
    expected = ("010B000304140601000000\r\nISO 15693 Inventory request.\r\n[,40]\r\n"
                "[01000000500104E0,6E]\r\n" + "[,40]\r\n" * 14)
    assert simulator.reply_to(inventory_request()) == expected.encode()


def test_simulator_prints_only_tags_found_like_the_2013_firmware():
    pad = make_pad(DISTINCT)
    pad.place(DISTINCT)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    assert simulator.reply_to(inventory_request()) == \
        b"ISO 15693 Inventory request.\r\n\r\n[01000000500104E0,6E]\r\n"
    assert simulator.reply_to(system_info_request("E004015000000002")) == \
        b"Request mode.\r\n[]\r\n"


def test_simulator_hears_no_tag_until_rf_and_iso15693_at_the_right_rate_are_set():
    pad = make_pad(DISTINCT)
    pad.place(DISTINCT)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    assert b"[" not in simulator.reply_to(inventory_request())  # RF still off
    set_up(simulator)
    assert b"[" not in simulator.reply_to(b"010B000304140401000000")  # low-rate flags
    assert b"[01000000500104E0,6E]" in simulator.reply_to(inventory_request())


def test_simulator_refuses_and_records_lock_commands():
    pad = make_pad(UID)
    pad.place(UID)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    lock_afi = build_frame(REQUEST, H("22 28") + H(UID_AIR))
    lock_eas = build_frame(REQUEST, H("22 A4 04") + H(UID_AIR))
    assert simulator.reply_to(lock_afi) == b"Request mode.\r\n[010F]\r\n"
    assert simulator.reply_to(lock_eas) == b"Request mode.\r\n[010F]\r\n"
    assert pad.history == [("lock_afi", UID, None), ("lock_eas", UID, None)]


def test_simulator_waits_for_whole_frames_and_answers_collisions_with_z():
    pad = make_pad(*BOOKS[:2])
    pad.place(*BOOKS[:2])
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    request = masked_inventory_request(0, 4)  # both books end in nibble 0
    assert simulator.reply_to(request[:9]) == b""
    assert simulator.reply_to(request[9:]) == b"Request mode.\r\n[z]\r\n"
    assert simulator.reply_to(masked_inventory_request(0x10, 8)) == \
        b"Request mode.\r\n[0000" + uid_to_air(BOOKS[0]).hex().upper().encode() + b"]\r\n"


def test_simulator_corrupts_by_cutting_the_reply_inside_its_first_bracket():
    pad = make_pad(UID)
    pad.place(UID)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    pad.faults.corrupt_replies = 1
    cut = simulator.reply_to(system_info_request(UID))
    # 30 hex digits in the bracket (flags, info flags, UID, DSFID, AFI, size, IC): 15 are left.
    assert cut == b"Request mode.\r\n[000F26AA2331000\r\n"


def test_simulator_writes_and_loses_the_reply_or_sends_it_late_when_told():
    pad = make_pad(UID)
    pad.place(UID)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    pad.plan(Op.WRITE_SECURITY, LineFault.LOST)
    pad.plan(Op.READ_SECURITY, LineFault.LATE)
    assert simulator.reply_to(write_afi_request(UID, 0xC2)) == b""
    assert pad.tags[UID].afi == 0xC2
    assert simulator.reply_to(system_info_request(UID)) == b""  # held back
    info = b"Request mode.\r\n[000F" + H(UID_AIR).hex().upper().encode() + b"00C21B0301]\r\n"
    assert simulator.reply_to(ping_request()) == info + b"TRF7970A EVM \r\n\r\n"
    assert pad.line_faults == [(Op.WRITE_SECURITY, LineFault.LOST),
                               (Op.READ_SECURITY, LineFault.LATE)]


def test_simulator_tag_unreadable_for_security_stays_silent_to_security_reads_only():
    pad = make_pad(UID)
    pad.place(UID)
    pad.faults.unreadable_security.add(UID)
    simulator = Trf7970aSimulator(pad, firmware="2013")
    set_up(simulator)
    assert simulator.reply_to(system_info_request(UID)) == b"Request mode.\r\n[]\r\n"
    assert simulator.reply_to(eas_request(UID, 0xA5)) == b"Request mode.\r\n[]\r\n"
    assert simulator.reply_to(read_blocks_request(UID, 0, 1)).startswith(b"Request mode.\r\n[00")
    assert simulator.reply_to(write_afi_request(UID, 0xC2)) == b"Request mode.\r\n[00]\r\n"


# --- the real link over a real pty -------------------------------------------------------

@dataclass
class Rig:
    pad: SimPad
    simulator: Trf7970aSimulator | None
    device: PtyDevice
    link: Trf7970aLink
    noise: list[str]

    def requests(self) -> list[Frame]:
        """Every frame the link wrote, as the board received them."""
        return FrameAssembler().feed(bytes(self.device.received))

    def iso(self, command: int) -> list[bytes]:
        """The ISO 15693 requests with `command` sent through request mode: flags onwards."""
        return [f.payload for f in self.requests()
                if f.command == REQUEST and f.payload[1] == command]


def open_link(path) -> tuple[Trf7970aLink, list[str]]:
    noise: list[str] = []
    port = serial.Serial(str(path), Trf7970aLink.baud, timeout=0.05)
    return Trf7970aLink(port, on_garbage=noise.append), noise


def rig_at(tmp_path, *, paced: bool = False, **board) -> Rig:
    pad = make_pad(UID, DISTINCT, TAGIT, *BOOKS)
    if paced:  # as the demo and the pad driver start it
        simulator, device = None, start_trf7970a_sim(pad, tmp_path / "rfid", **board)
    else:
        simulator = Trf7970aSimulator(pad, **board)
        device = PtyDevice(simulator.reply_to, tmp_path / "rfid").start()
    link, noise = open_link(tmp_path / "rfid")
    link.probe()
    return Rig(pad, simulator, device, link, noise)


def close_rig(rig: Rig) -> None:
    rig.link.port.close()
    rig.device.close()
    # Lock AFI, lock EAS and their kind are irreversible: never on the wire, never at the pad.
    assert not [op for op, *_ in rig.pad.history if op.startswith("lock_")]
    assert not [f for f in rig.requests() if f.command == REQUEST and f.payload[1] in LOCKS]


@pytest.fixture
def rig(tmp_path):
    rig = rig_at(tmp_path)
    yield rig
    close_rig(rig)


def test_probe_pings_reads_the_firmware_and_sets_up_iso15693(tmp_path):
    rig = rig_at(tmp_path)
    try:
        assert rig.link.probe() == "TRF7970A EVM, Firmware Revision 03 from 11/Nov/2013"
        sent = [build_frame(f.command, f.payload) for f in rig.requests()]
        assert sent == [ping_request(), firmware_request(), *iso15693_setup_requests()] * 2
        assert rig.noise == []
    finally:
        close_rig(rig)


@pytest.mark.parametrize("board", [
    {},  # classic firmware, which resolves collisions itself
    {"firmware": "2013"},
    {"board_anticollision": False},  # collisions left to the link
], ids=["classic", "2013", "board-leaves-collisions"])
def test_inventory_of_no_tag_one_tag_and_twelve_colliding_ones(tmp_path, board):
    rig = rig_at(tmp_path, **board)
    try:
        assert rig.link.inventory() == []
        rig.pad.place(UID)
        assert rig.link.inventory() == [UID]
        rig.pad.place(*BOOKS, DISTINCT)
        assert sorted(rig.link.inventory()) == sorted([UID, DISTINCT, *BOOKS])
        masked = rig.iso(ISO_INVENTORY)
        if board.get("board_anticollision", True):
            assert rig.link.host_anticollisions == 0 and masked == []
        else:
            assert rig.link.host_anticollisions == 1
            assert masked[0] == H("26 01 00")  # the recursion starts with no mask at all
            assert 12 < len(masked) < 80
        assert rig.noise == []
    finally:
        close_rig(rig)


def test_read_blocks_splits_into_requests_the_board_takes(rig):
    rig.pad.place(UID, *BOOKS)
    assert rig.link.read_blocks(UID, 0, 28) == bytes(rig.pad.tags[UID].memory)
    asked = [(p[10], p[11]) for p in rig.iso(READ_MULTIPLE_BLOCKS)]
    assert asked == [(0, 7), (8, 7), (16, 7), (24, 3)]  # ISO 15693 counts blocks minus one
    assert rig.link.read_blocks(BOOKS[2], 3, 10) == bytes(rig.pad.tags[BOOKS[2]].memory[12:52])


def test_read_blocks_past_the_end_is_the_tags_refusal_not_a_lifted_tag(rig):
    rig.pad.place(UID)
    with pytest.raises(ReaderError, match="block not available") as refused:
        rig.link.read_blocks(UID, 24, 8)
    assert not isinstance(refused.value, (TagNotAnswering, BadFrame))


def test_write_afi_addresses_the_one_tag_and_reads_back(rig):
    rig.pad.place(UID, *BOOKS)
    rig.link.write_afi(BOOKS[4], 0xC2)
    assert rig.link.read_afi(BOOKS[4]) == 0xC2
    assert rig.link.read_afi(UID) == 0x07
    assert rig.pad.history == [("write_afi", BOOKS[4], 0xC2)]
    assert rig.iso(WRITE_AFI) == [H("22 27") + uid_to_air(BOOKS[4]) + H("C2")]


def test_write_afi_to_a_tagit_tag_sets_the_option_flag(rig):
    rig.pad.place(TAGIT)
    rig.link.write_afi(TAGIT, 0xDA)
    assert rig.link.read_afi(TAGIT) == 0xDA
    assert [p[0] for p in rig.iso(WRITE_AFI)] == [0x62]


def test_eas_is_set_reset_and_read_back_on_the_one_tag(rig):
    rig.pad.place(UID, BOOKS[0])
    assert rig.link.read_eas(UID) is True
    rig.link.write_eas(UID, False)
    assert rig.link.read_eas(UID) is False
    assert rig.link.read_eas(BOOKS[0]) is True
    rig.link.write_eas(UID, True)
    assert rig.link.read_eas(UID) is True
    assert rig.pad.history == [("write_eas", UID, False), ("write_eas", UID, True)]
    assert rig.pad.tags[UID].afi == 0x07  # EAS leaves the AFI alone


def test_a_write_the_board_heard_no_answer_to_is_confirmed_by_reading_back(rig):
    rig.pad.place(UID)
    rig.simulator.late_write_answers = 2
    rig.link.write_afi(UID, 0xC2)
    rig.link.write_eas(UID, False)
    assert rig.pad.history == [("write_afi", UID, 0xC2), ("write_eas", UID, False)]
    assert len(rig.iso(WRITE_AFI)) == 1 and len(rig.iso(NXP_RESET_EAS)) == 1  # not sent again


def test_eas_on_a_tag_without_it_is_not_supported_and_sends_nothing(rig):
    rig.pad.place(TAGIT)
    before = len(rig.requests())
    for call in (lambda: rig.link.read_eas(TAGIT), lambda: rig.link.write_eas(TAGIT, False)):
        with pytest.raises(NotSupported):
            call()
    assert len(rig.requests()) == before


def test_a_tag_lifted_before_an_addressed_command_is_not_answering(rig):
    rig.pad.place(UID)
    assert rig.link.inventory() == [UID]
    rig.link.write_eas(UID, False)
    rig.pad.remove(UID)
    for call in (lambda: rig.link.read_blocks(UID, 0, 8), lambda: rig.link.read_afi(UID),
                 lambda: rig.link.write_afi(UID, 0xC2), lambda: rig.link.read_eas(UID),
                 lambda: rig.link.write_eas(UID, True)):
        with pytest.raises(TagNotAnswering):
            call()
    assert rig.pad.history == [("write_eas", UID, False)]
    assert len(rig.iso(WRITE_AFI)) == 1  # reading back showed the tag gone: no second try


def test_a_silent_board_times_out_within_the_bound_then_answers_again(rig):
    rig.pad.place(UID)
    rig.pad.faults.silent_replies = 1
    began = time.monotonic()
    with pytest.raises(ReaderTimeout):
        rig.link.inventory()
    assert time.monotonic() - began < 1.0
    assert rig.link.inventory() == [UID]


@pytest.mark.parametrize("call", ["inventory", "read_afi", "probe"])
def test_a_corrupt_reply_is_a_bad_frame_then_the_next_one_is_good(rig, call):
    rig.pad.place(UID)
    rig.pad.faults.corrupt_replies = 1
    calls = {"inventory": rig.link.inventory, "read_afi": lambda: rig.link.read_afi(UID),
             "probe": rig.link.probe}
    with pytest.raises(BadFrame):
        calls[call]()
    assert rig.link.inventory() == [UID]
    assert rig.link.read_afi(UID) == 0x07


def test_noise_before_a_good_reply_is_skipped_and_reported(rig):
    rig.pad.place(UID)
    rig.pad.faults.garbage = b"\x00\xff\x13"
    assert rig.link.inventory() == [UID]
    rig.pad.faults.garbage = b"noise\r\n"
    assert rig.link.read_afi(UID) == 0x07
    assert rig.noise == ["skipped 3 bytes of noise around a reply",
                         "skipped 5 bytes of noise around a reply"]
    assert rig.link.skipped_bytes == 8


@pytest.mark.parametrize("firmware", FIRMWARES)
def test_brackets_in_the_noise_before_a_reply_are_not_taken_for_its_results(tmp_path, firmware):
    rig = rig_at(tmp_path, firmware=firmware)
    try:
        rig.pad.place(UID)
        rig.pad.faults.garbage = b"[7E,\r\n[AB]\r\n"
        assert rig.link.inventory() == [UID]
        rig.pad.faults.garbage = b"[00\r\n"
        assert rig.link.read_afi(UID) == 0x07
        assert len(rig.noise) == 2
    finally:
        close_rig(rig)


def test_a_late_line_left_on_the_port_is_not_taken_for_the_answer(rig):
    rig.pad.place(UID)
    rig.device.send(b"[z]\r\n")  # a stray line the board sent before this exchange
    deadline = time.monotonic() + 2
    while not rig.link.port.in_waiting and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rig.link.read_afi(UID) == 0x07
    assert rig.link.skipped_bytes == 3


def test_a_late_reply_for_another_tag_is_not_taken_when_the_board_echoes(rig):
    rig.pad.place(UID, BOOKS[0])
    board = Trf7970aSimulator(rig.pad)  # classic firmware: each reply follows its request's echo
    set_up(board)
    rig.pad.faults.garbage = board.reply_to(read_blocks_request(BOOKS[0], 0, 8))
    assert rig.link.read_blocks(UID, 0, 8) == bytes(rig.pad.tags[UID].memory[:32])


@pytest.mark.parametrize("firmware", ["classic", "2013"])
def test_after_a_timeout_a_late_reply_is_drained_before_the_next_request(tmp_path, firmware):
    rig = rig_at(tmp_path, firmware=firmware)
    try:
        rig.pad.place(UID, BOOKS[0])
        rig.pad.plan(Op.READ_BLOCKS, LineFault.LATE)
        with pytest.raises(ReaderTimeout, match="within 0.4 s"):
            rig.link.read_blocks(BOOKS[0], 0, 8)
        assert rig.link.read_blocks(UID, 0, 8) == bytes(rig.pad.tags[UID].memory[:32])
        rig.pad.plan(Op.READ_SECURITY, LineFault.LATE)
        with pytest.raises(ReaderTimeout):
            rig.link.read_afi(UID)
        rig.pad.tags[UID].afi = 0xC2  # the tag changed while its old answer was on its way
        assert rig.link.read_afi(UID) == 0xC2
        assert [f.command for f in rig.requests()][-2:] == [0xFF, REQUEST]  # a ping settled it
    finally:
        close_rig(rig)


def test_unplugged_board_fails_the_open_port_and_a_replugged_one_works(rig, tmp_path):
    rig.pad.place(UID)
    rig.device.unplug()
    with pytest.raises(OSError):  # serial.SerialException is one
        rig.link.inventory()
    rig.link.port.close()
    rig.device.replug()
    rig.link, _ = open_link(tmp_path / "rfid")
    assert rig.link.probe().startswith("TRF7970A EVM")
    assert rig.link.inventory() == [UID]


def test_at_the_real_baud_rate(tmp_path):
    rig = rig_at(tmp_path, paced=True, board_anticollision=False)
    try:
        rig.pad.place(UID, *BOOKS)
        assert sorted(rig.link.inventory()) == sorted([UID, *BOOKS])
        assert rig.link.read_blocks(UID, 0, 8) == bytes(rig.pad.tags[UID].memory[:32])
        rig.link.write_afi(UID, 0xC2)
        assert rig.link.read_afi(UID) == 0xC2
    finally:
        close_rig(rig)
