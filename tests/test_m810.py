"""The 3M 810: its frame codec hammered with bytes, then the real link against the simulator
over real ptys (unpaced, except one test at the reader's 19200 baud)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import serial

from drivers.errors import BadFrame, ReaderError, ReaderTimeout, TagNotAnswering
from drivers.rfid.crc import crc16_genibus
from drivers.rfid.m810 import M810Link
from drivers.rfid.m810_frames import (
    LOCKS,
    MAX_BLOCKS_PER_READ,
    READ_BLOCKS,
    SETUP_START,
    START,
    WRITE_AFI,
    Frame,
    Packetizer,
    build_frame,
    build_reply,
    check_write_afi,
    decode_afi,
    decode_blocks,
    decode_inventory,
    decode_version,
    get_afi_request,
    inventory_request,
    parse_frame,
    probe_request,
    read_blocks_request,
    reply_fits,
    uid_bytes,
    write_afi_request,
)
from drivers.sim.m810 import STATUS_REFUSED, M810Simulator, start_m810_sim
from drivers.sim.pty_port import PtyDevice
from drivers.sim.rfid_pad import LineFault, Op, SimPad, SimTag

H = bytes.fromhex
UID = "E00401003123AA26"  # the tag in Biblio::RFID's docs and LibraryStockScanner's captures
BOOKS = [f"E0040150000000{n:02X}" for n in range(1, 13)]


# --- checksum and frames -----------------------------------------------------------------

def test_the_spec_checksum_example_covers_everything_after_the_start_byte():
    frame = H("D6 00 09 03 00 02 00 00 00 03")
    assert crc16_genibus(frame[1:]) == 0x12E6
    # Not with D6, not without the length.
    assert crc16_genibus(frame) != 0x12E6 and crc16_genibus(frame[3:]) != 0x12E6
    assert build_frame(0x03, H("00 02 00 00 00 03")) == frame + H("12 E6")


CAPTURED = (  # frames real readers exchanged, with the checksums they carried
    "D5 00 05 04 00 11 8C 66",  # 3M's software probing an 810 (Biblio::RFID 3M810.pm)
    "D5 00 09 04 00 11 0A 05 00 02 72 50",  # the 810's answer (same)
    "D5 00 09 04 00 11 0A 05 02 1B 97 2A",  # a 210's answer (Helsinki's signum labeller)
    "D6 00 07 FE 00 00 07 00 AF 19",  # an empty inventory (same)
    "D6 00 0F FE 00 00 05 01 E0 04 01 00 31 23 AA 26 94 1A",  # one tag (LibraryStockScanner)
)


@pytest.mark.parametrize("captured", CAPTURED)
def test_frames_captured_from_real_readers_parse_and_rebuild_byte_for_byte(captured):
    raw = H(captured)
    frame = parse_frame(raw)
    assert (frame.start, frame.command, frame.body) == (raw[0], raw[3], raw[4:-2])
    assert build_frame(frame.command, frame.body, start=frame.start) == raw


def test_captured_replies_decode_to_versions_and_uids():
    assert decode_version(parse_frame(H(CAPTURED[1]))) == "5.0.2"
    assert decode_version(parse_frame(H(CAPTURED[2]))) == "5.2.27"
    assert decode_inventory(parse_frame(H(CAPTURED[3]))) == []
    assert decode_inventory(parse_frame(H(CAPTURED[4]))) == [UID]


@pytest.mark.parametrize("request_bytes, expected", [
    (probe_request(), "D5 00 05 04 00 11 8C 66"),
    (inventory_request(), "D6 00 05 FE 00 05 FA 40"),
    (read_blocks_request(UID, 0, 8), "D6 00 0D 02 E0 04 01 00 31 23 AA 26 00 08 AD AF"),
    (read_blocks_request(UID.lower(), 8, 4), "D6 00 0D 02 E0 04 01 00 31 23 AA 26 08 04 E5 8A"),
    (get_afi_request(UID), "D6 00 0B 0A E0 04 01 00 31 23 AA 26 F8 69"),
    (write_afi_request(UID, 0xC2), "D6 00 0C 09 E0 04 01 00 31 23 AA 26 C2 78 64"),
])
def test_each_request_the_link_sends_has_exact_bytes(request_bytes, expected):
    assert request_bytes == H(expected)


@pytest.mark.parametrize("start, command, fields", [
    (START, 0xFE, b""), (START, 0x02, bytes(range(10))), (SETUP_START, 0x04, H("00 11")),
    (START, 0x02, bytes(range(256)) * 3),  # longer than 255: the length really is 2 bytes
])
def test_frames_round_trip(start, command, fields):
    raw = build_frame(command, fields, start=start)
    assert int.from_bytes(raw[1:3], "big") == len(raw) - 3
    assert parse_frame(raw) == Frame(start, command, fields)


@pytest.mark.parametrize("raw", [
    H("D6 00 03 11 64 21"),  # checksum off by one bit
    H("D6 00 04 11 64 20"),  # length says one byte more than there is
    H("D7 00 03 11 64 20"),  # no start byte
    H("D6 00 02 11 64"),  # too short to hold a command and a checksum
])
def test_parse_frame_rejects_broken_frames(raw):
    with pytest.raises(BadFrame):
        parse_frame(raw)


def test_requests_refuse_what_an_810_cannot_do():
    with pytest.raises(ValueError):
        read_blocks_request(UID, 0, MAX_BLOCKS_PER_READ + 1)
    with pytest.raises(ValueError):
        uid_bytes("E004")
    with pytest.raises(ValueError):
        write_afi_request(UID, 0x100)


# --- the packetizer ----------------------------------------------------------------------

GOOD = build_reply(0xFE, 0x00, H("00 05 01") + H(UID))
GOOD2 = build_reply(0x0A, 0x00, H(UID) + H("07"))


def all_frames(packetizer: Packetizer) -> list[Frame]:
    frames = []
    while (frame := packetizer.next_frame()) is not None:
        frames.append(frame)
    return frames


def test_packetizer_assembles_a_frame_fed_one_byte_at_a_time():
    packetizer = Packetizer()
    for byte in GOOD[:-1]:
        packetizer.feed(bytes([byte]))
        assert packetizer.next_frame() is None
    packetizer.feed(GOOD[-1:])
    assert packetizer.next_frame() == parse_frame(GOOD)
    assert packetizer.skipped == 0


def test_packetizer_cuts_two_frames_from_one_chunk():
    packetizer = Packetizer()
    packetizer.feed(GOOD + GOOD2[:4])
    assert all_frames(packetizer) == [parse_frame(GOOD)]
    packetizer.feed(GOOD2[4:])
    assert all_frames(packetizer) == [parse_frame(GOOD2)]


def test_packetizer_skips_and_counts_noise_before_a_start_byte():
    packetizer = Packetizer()
    packetizer.feed(H("00 FF 13 37 D5"))  # D5 is not a start byte unless asked for
    assert packetizer.next_frame() is None
    packetizer.feed(H("42") + GOOD)
    assert all_frames(packetizer) == [parse_frame(GOOD)]
    assert packetizer.skipped == 6


def test_packetizer_reports_a_bad_checksum_then_finds_the_next_frame():
    packetizer = Packetizer()
    packetizer.feed(GOOD[:-1] + bytes([GOOD[-1] ^ 0x01]) + GOOD2)
    with pytest.raises(BadFrame, match="checksum"):
        packetizer.next_frame()
    assert all_frames(packetizer) == [parse_frame(GOOD2)]


@pytest.mark.parametrize("length", ["00 00", "00 02", "FF FF"])
def test_packetizer_reports_an_impossible_length_then_finds_the_next_frame(length):
    packetizer = Packetizer()
    packetizer.feed(H("D6") + H(length) + GOOD)
    with pytest.raises(BadFrame, match="length"):
        packetizer.next_frame()
    assert all_frames(packetizer) == [parse_frame(GOOD)]


def test_packetizer_finds_a_real_frame_a_false_start_byte_had_swallowed():
    # D6 00 05 in the noise claims the next 5 bytes: they fail the checksum, and the real
    # frame inside them is found once the false start byte is dropped.
    packetizer = Packetizer()
    packetizer.feed(H("D6 00 05") + GOOD)
    with pytest.raises(BadFrame):
        packetizer.next_frame()
    assert all_frames(packetizer) == [parse_frame(GOOD)]


def test_packetizer_salvages_a_whole_frame_held_back_by_a_false_start_claiming_more():
    # Found by test_properties_rfid: D5 00 in the noise, then a short reply: the false start
    # claims 0xD6 bytes, which never come, and the reply inside them was never read.
    packetizer = Packetizer(bytes([START, SETUP_START]))
    packetizer.feed(H("D5 00") + GOOD)
    assert all_frames(packetizer) == []
    assert packetizer.salvage() == parse_frame(GOOD)
    assert packetizer.skipped == 2 and packetizer.salvage() is None


# --- replies -----------------------------------------------------------------------------

def reply(command: int, status: int, fields: bytes = b"") -> Frame:
    return parse_frame(build_reply(command, status, fields))


def test_inventory_reply_with_dsfids_and_a_repeated_tag():
    entries = H("00") + H(UID) + H("06") + H(BOOKS[0]) + H("00") + H(UID)
    frame = reply(0xFE, 0x00, H("00 07 03") + entries)
    assert decode_inventory(frame) == [UID, BOOKS[0]]


@pytest.mark.parametrize("fields", [
    H("00 05 02") + H(UID),  # two tags announced, one sent
    H("00 05 01") + H(UID) + H("00"),  # one byte too many
    H("00 05"),  # no count
])
def test_inventory_reply_of_the_wrong_shape_is_a_bad_frame(fields):
    with pytest.raises(BadFrame):
        decode_inventory(reply(0xFE, 0x00, fields))


def test_inventory_reply_statuses():
    assert decode_inventory(reply(0xFE, 0x06, H("00 05 00"))) == []
    with pytest.raises(BadFrame, match="reader error 0F"):
        decode_inventory(reply(0xFE, 0x0F))
    with pytest.raises(BadFrame):  # another command's reply
        decode_inventory(reply(0x0A, 0x00, H(UID) + H("07")))


def test_read_blocks_reply_puts_blocks_in_order():
    fields = H(UID) + H("02") + H("03 00 11 22 33 44") + H("04 01 55 66 77 88")  # 04 is locked
    data = decode_blocks(reply(READ_BLOCKS, 0x00, fields), UID, 3, 2)
    assert data == H("11 22 33 44 55 66 77 88")
    with pytest.raises(BadFrame, match="block 3 where block 4"):
        decode_blocks(reply(READ_BLOCKS, 0x00, fields), UID, 4, 2)
    with pytest.raises(BadFrame):
        decode_blocks(reply(READ_BLOCKS, 0x00, fields), UID, 3, 3)


def test_addressed_replies_map_statuses_and_check_the_uid():
    with pytest.raises(TagNotAnswering):
        decode_afi(reply(0x0A, 0x06, H(UID)), UID)
    with pytest.raises(ReaderError) as refused:
        check_write_afi(reply(WRITE_AFI, 0x0F, H(UID)), UID)
    assert not isinstance(refused.value, TagNotAnswering)
    with pytest.raises(BadFrame, match="reply for tag E0040150"):
        decode_afi(reply(0x0A, 0x00, H(BOOKS[0]) + H("07")), UID)
    assert decode_afi(reply(0x0A, 0x00, H(UID) + H("DA")), UID) == 0xDA


def test_a_reply_fits_only_the_request_it_answers():
    afi = reply(0x0A, 0x00, H(UID) + H("07"))
    assert reply_fits(afi, 0x0A, uid=UID)
    assert not reply_fits(afi, 0x0A, uid=BOOKS[0]) and not reply_fits(afi, WRITE_AFI, uid=UID)
    blocks = reply(READ_BLOCKS, 0x00, H(UID) + H("01") + H("08 00 11 22 33 44"))
    assert reply_fits(blocks, READ_BLOCKS, uid=UID, first_block=8)
    assert not reply_fits(blocks, READ_BLOCKS, uid=UID, first_block=0)
    assert reply_fits(reply(READ_BLOCKS, 0x06, H(UID)), READ_BLOCKS, uid=UID, first_block=0)
    assert reply_fits(reply(0x0A, 0x00, H("07")), 0x0A, uid=UID)  # too short to tell: decoded
    version = parse_frame(H(CAPTURED[1]))
    assert reply_fits(version, 0x04, start=SETUP_START) and not reply_fits(version, 0x04)


# --- the simulator on its own ------------------------------------------------------------

def make_pad(*uids: str) -> SimPad:
    pad = SimPad()
    for number, uid in enumerate(uids):
        memory = bytearray((number * 7 + i) % 256 for i in range(112))
        pad.tags[uid] = SimTag(uid, memory, afi=0x07)
    return pad


def test_simulator_refuses_and_records_a_lock_command():
    pad = make_pad(UID)
    pad.place(UID)
    answer = M810Simulator(pad).reply_to(build_frame(0x06, H(UID)))
    assert parse_frame(answer) == Frame(START, 0x06, bytes([STATUS_REFUSED]) + H(UID))
    assert pad.history == [("lock_afi", UID, None)]


def test_simulator_waits_for_whole_frames_and_ignores_broken_ones():
    pad = make_pad(UID)
    pad.place(UID)
    simulator = M810Simulator(pad)
    request = get_afi_request(UID)
    assert simulator.reply_to(request[:5]) == b""
    assert simulator.reply_to(request[5:]) == build_reply(0x0A, 0x00, H(UID) + H("07"))
    assert simulator.reply_to(request[:-1] + b"\x00") == b""
    assert simulator.reply_to(build_frame(0x55, b"")) == b""  # unknown command
    assert simulator.ignored == 2


def test_simulator_refuses_more_blocks_than_an_810_reads_at_once():
    pad = make_pad(UID)
    pad.place(UID)
    asked = build_frame(READ_BLOCKS, H(UID) + bytes([0, MAX_BLOCKS_PER_READ + 1]))
    assert parse_frame(M810Simulator(pad).reply_to(asked)).body[0] == STATUS_REFUSED


def test_simulator_writes_the_afi_and_loses_the_reply_when_told():
    pad = make_pad(UID)
    pad.place(UID)
    pad.plan(Op.WRITE_SECURITY, LineFault.LOST)
    simulator = M810Simulator(pad)
    assert simulator.reply_to(get_afi_request(UID)) == build_reply(0x0A, 0x00, H(UID) + H("07"))
    assert simulator.reply_to(write_afi_request(UID, 0xC2)) == b""  # the fault hit the write
    assert pad.tags[UID].afi == 0xC2 and pad.history == [("write_afi", UID, 0xC2)]
    assert pad.line_faults == [(Op.WRITE_SECURITY, LineFault.LOST)]
    assert simulator.reply_to(get_afi_request(UID)) == build_reply(0x0A, 0x00, H(UID) + H("C2"))
    pad.plan(Op.WRITE_SECURITY, LineFault.UNHEARD)
    assert simulator.reply_to(write_afi_request(UID, 0x07)) == b""  # never reached the tag
    assert pad.tags[UID].afi == 0xC2 and len(pad.history) == 1


def test_simulator_sends_a_late_reply_just_before_the_next_requests_reply():
    pad = make_pad(UID)
    pad.place(UID)
    pad.plan(Op.READ_SECURITY, LineFault.LATE)
    simulator = M810Simulator(pad)
    assert simulator.reply_to(get_afi_request(UID)) == b""
    assert simulator.reply_to(inventory_request()) == \
        build_reply(0x0A, 0x00, H(UID) + H("07")) + build_reply(0xFE, 0x00, H("00 05 01") + H(UID))
    assert not pad.faults_pending()


def test_simulator_tag_unreadable_for_security_answers_everything_else():
    pad = make_pad(UID)
    pad.place(UID)
    pad.faults.unreadable_security.add(UID)
    simulator = M810Simulator(pad)
    assert simulator.reply_to(get_afi_request(UID)) == build_reply(0x0A, 0x06, H(UID))
    assert parse_frame(simulator.reply_to(read_blocks_request(UID, 0, 1))).body[0] == 0x00
    assert parse_frame(simulator.reply_to(write_afi_request(UID, 0xC2))).body[0] == 0x00
    assert pad.tags[UID].afi == 0xC2


# --- the real link over a real pty -------------------------------------------------------

@dataclass
class Rig:
    pad: SimPad
    device: PtyDevice
    link: M810Link
    noise: list[str]

    def requests(self) -> list[Frame]:
        """Every frame the link wrote, as the reader received them."""
        packetizer = Packetizer(bytes([START, SETUP_START]))
        packetizer.feed(bytes(self.device.received))
        return all_frames(packetizer)


def open_link(path) -> tuple[M810Link, list[str]]:
    noise: list[str] = []
    port = serial.Serial(str(path), M810Link.baud, timeout=0.05)
    return M810Link(port, on_garbage=noise.append), noise


def rig_at(tmp_path, *, paced: bool):
    pad = make_pad(UID, *BOOKS)
    device = start_m810_sim(pad, tmp_path / "rfid", paced=paced)
    link, noise = open_link(tmp_path / "rfid")
    return Rig(pad, device, link, noise)


def close_rig(rig: Rig) -> None:
    rig.link.port.close()
    rig.device.close()
    # Lock AFI and its kind are irreversible: never on the wire, never at the pad.
    assert not [op for op, *_ in rig.pad.history if op.startswith("lock_")]
    assert not [f for f in rig.requests() if f.start == START and f.command in LOCKS]


@pytest.fixture
def rig(tmp_path):
    rig = rig_at(tmp_path, paced=False)
    yield rig
    close_rig(rig)


def test_probe_reads_the_firmware_version(rig):
    assert rig.link.probe() == "5.0.2"
    assert rig.requests() == [parse_frame(probe_request())]


def test_inventory_of_no_tag_one_tag_and_many(rig):
    assert rig.link.inventory() == []
    rig.pad.place(UID)
    assert rig.link.inventory() == [UID]
    rig.pad.place(*BOOKS)
    assert sorted(rig.link.inventory()) == sorted([UID, *BOOKS])


def test_read_blocks_splits_into_requests_the_reader_accepts(rig):
    rig.pad.place(UID)
    assert rig.link.read_blocks(UID, 0, 28) == bytes(rig.pad.tags[UID].memory)
    asked = [(f.body[8], f.body[9]) for f in rig.requests() if f.command == READ_BLOCKS]
    assert asked == [(0, 8), (8, 8), (16, 8), (24, 4)]


def test_read_blocks_from_the_middle_of_memory(rig):
    rig.pad.place(BOOKS[2])
    assert rig.link.read_blocks(BOOKS[2], 3, 10) == bytes(rig.pad.tags[BOOKS[2]].memory[12:52])


def test_write_afi_addresses_the_one_tag_and_reads_back(rig):
    rig.pad.place(UID, *BOOKS)
    rig.link.write_afi(BOOKS[4], 0xC2)
    assert rig.link.read_afi(BOOKS[4]) == 0xC2
    assert rig.link.read_afi(UID) == 0x07
    assert rig.pad.history == [("write_afi", BOOKS[4], 0xC2)]
    writes = [f for f in rig.requests() if f.command == WRITE_AFI]
    assert [f.body for f in writes] == [H(BOOKS[4]) + H("C2")]


def test_a_tag_lifted_before_an_addressed_command_is_not_answering(rig):
    rig.pad.place(UID)
    assert rig.link.inventory() == [UID]
    rig.pad.remove(UID)
    for call in (lambda: rig.link.read_blocks(UID, 0, 8), lambda: rig.link.read_afi(UID),
                 lambda: rig.link.write_afi(UID, 0xC2)):
        with pytest.raises(TagNotAnswering):
            call()
    assert rig.pad.history == []


def test_a_silent_reader_times_out_within_the_bound_then_answers_again(rig):
    rig.pad.faults.silent_replies = 1
    began = time.monotonic()
    with pytest.raises(ReaderTimeout):
        rig.link.inventory()
    assert time.monotonic() - began < 1.0
    assert rig.link.inventory() == []


def test_a_corrupt_reply_is_a_bad_frame_then_the_next_one_is_good(rig):
    rig.pad.place(UID)
    rig.pad.faults.corrupt_replies = 1
    with pytest.raises(BadFrame):
        rig.link.inventory()
    assert rig.link.inventory() == [UID]


def test_noise_before_a_good_reply_is_skipped_and_reported(rig):
    rig.pad.place(UID)
    rig.pad.faults.garbage = H("00 FF 13 37 42")
    assert rig.link.inventory() == [UID]
    assert rig.noise == ["skipped 5 bytes of noise around a reply"]
    assert rig.link.skipped_bytes == 5


def test_a_start_byte_in_the_noise_before_a_reply_does_not_cost_the_reply(rig):
    rig.pad.place(UID)
    rig.pad.faults.garbage = H("D5 00")
    assert rig.link.inventory() == [UID]
    assert rig.noise == ["skipped 2 bytes of noise around a reply"]


def test_a_late_reply_to_another_command_is_not_taken_for_the_answer(rig):
    rig.pad.place(UID)
    late = build_reply(0x0A, 0x00, H(UID) + H("07"))  # a Get AFI reply that missed its deadline
    rig.pad.faults.garbage = late
    assert rig.link.inventory() == [UID]
    assert rig.link.skipped_bytes == len(late)


def late_reply(rig: Rig, request: bytes) -> bytes:
    """What the reader would have answered `request` with, to be delivered late."""
    return M810Simulator(rig.pad).reply_to(request)


def test_a_late_reply_for_another_tag_is_skipped_and_this_tags_reply_taken(rig):
    rig.pad.place(UID, BOOKS[0])
    rig.pad.faults.garbage = late_reply(rig, read_blocks_request(BOOKS[0], 0, 8))
    assert rig.link.read_blocks(UID, 0, 8) == bytes(rig.pad.tags[UID].memory[:32])
    assert rig.noise  # the stray reply is counted as noise


def test_a_late_reply_for_other_blocks_of_the_same_tag_is_skipped(rig):
    rig.pad.place(UID)
    rig.pad.faults.garbage = late_reply(rig, read_blocks_request(UID, 0, 8))
    assert rig.link.read_blocks(UID, 8, 8) == bytes(rig.pad.tags[UID].memory[32:64])


def test_after_a_timeout_a_late_reply_is_drained_before_the_next_request(rig):
    rig.pad.place(UID)
    rig.pad.plan(Op.READ_SECURITY, LineFault.LATE)
    with pytest.raises(ReaderTimeout, match="within 0.4 s"):
        rig.link.read_afi(UID)
    rig.pad.tags[UID].afi = 0xC2  # the tag changed while its old answer was on its way
    assert rig.link.read_afi(UID) == 0xC2  # not the late 07
    sent = [(f.start, f.command) for f in rig.requests()]
    assert sent[-2:] == [(SETUP_START, 0x04), (START, 0x0A)]  # the link settled the line first


def test_unplugged_reader_fails_the_open_port_and_a_replugged_one_works(rig, tmp_path):
    rig.pad.place(UID)
    rig.device.unplug()
    with pytest.raises(OSError):  # serial.SerialException is one
        rig.link.inventory()
    rig.link.port.close()
    rig.device.replug()
    rig.link, _ = open_link(tmp_path / "rfid")
    assert rig.link.probe() == "5.0.2"
    assert rig.link.inventory() == [UID]


def test_at_the_real_baud_rate(tmp_path):
    rig = rig_at(tmp_path, paced=True)
    try:
        rig.pad.place(UID, *BOOKS)
        assert rig.link.probe() == "5.0.2"
        assert sorted(rig.link.inventory()) == sorted([UID, *BOOKS])
        assert rig.link.read_blocks(UID, 0, 8) == bytes(rig.pad.tags[UID].memory[:32])
    finally:
        close_rig(rig)
