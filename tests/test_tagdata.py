"""Tag data models: published check values, hand-built tags for each model, and a fuzz.

Tags are assembled here from the layouts in the standards and public decoders, never with
`encode`, so an encoder and a decoder that are wrong the same way cannot pass together.
"""

from __future__ import annotations

import random

import pytest

from drivers.rfid import tagdata
from drivers.rfid.tagdata import TagContent, bytes_wanted, crc16_ccitt_false, decode, encode

# --- helpers: the layouts, written out ------------------------------------------------------


def basic_block(first: int, set1: int, set2: int, item: bytes, isil_field: bytes,
                size: int = 32) -> bytes:
    """An ISO 28560-3 basic block: the CRC over bytes 0-18 and 21-33, low byte first."""
    head = bytes([first, set1, set2]) + item.ljust(16, b"\0")
    tail = isil_field.ljust(13, b"\0")
    crc = crc16_ccitt_false(head + tail)
    return (head + bytes([crc & 0xFF, crc >> 8]) + tail)[:size]


def blocks_reversed(memory: bytes) -> bytes:
    return b"".join(memory[i:i + 4][::-1] for i in range(0, len(memory), 4))


# ISO 28560-3 Annex B, example 1 (via GOST R ISO 28560-3-2016): item 1000000056 of DK-718500.
ANNEX_B_EXAMPLE_1 = bytes.fromhex(
    "11" "0101" "31303030303030303536000000000000" "98a4" "444b3731383530300000" "00")
# libdanrfid's test data (DDMDataTest): item 11223344 of DE-705, CRC 0x3E51.
LIBDANRFID_TAG = bytes.fromhex(
    "11010131313232333334340000000000000000513e4445373035000000000000")
# ISO 28560-2 Annex D: item 123456789012 (integer), content parameter, set 3 of 12,
# shelf mark QA268.L55 (6-bit), owner US-InU-Mu (ISIL scheme, 2 pad bytes after it).
ANNEX_D_TAG = bytes.fromhex(
    "9100051cbe991a14" "0201d0" "140204b3" "4607441cb6e2e335d6" "830207acc09ebaa06f6b0000")


# --- CRC ------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, crc", [
    (b"123456789", 0x29B1),  # the catalogue check value of CRC-16/CCITT-FALSE
    (b"RFID tag data model", 0x1AEE),  # ISO 28560-3 Annex C
    (b"", 0xFFFF),
])
def test_crc_check_values(data, crc):
    assert crc16_ccitt_false(data) == crc


# --- ISO 28560-3 ----------------------------------------------------------------------------

def test_published_28560_3_example_decodes():
    assert len(ANNEX_B_EXAMPLE_1) == 32
    assert decode(ANNEX_B_EXAMPLE_1) == TagContent(
        "1000000056", "DK-718500", "circulating", 1, 1, "iso28560-3", None)
    assert decode(ANNEX_B_EXAMPLE_1, dsfid=0x3E).item_id == "1000000056"
    assert bytes_wanted(ANNEX_B_EXAMPLE_1) == 32


def test_libdanrfid_tag_decodes():
    assert decode(LIBDANRFID_TAG) == TagContent(
        "11223344", "DE-705", "circulating", 1, 1, "iso28560-3", None)


@pytest.mark.parametrize("set1, set2", [(3, 2), (2, 3)])
def test_part_2_of_3(set1, set2):
    # ISO 28560-1 4.2.4: number of parts, then the part number. Some writers swap them; a
    # part number above the number of parts shows it.
    tag = basic_block(0x11, set1, set2, b"33520000246801", b"CN430281")
    content = decode(tag)
    assert (content.item_id, content.part, content.parts) == ("33520000246801", 2, 3)
    assert content.error is None


def test_crc_failure_gives_no_item_id():
    for position in (0, 5, 18, 19, 22, 31):
        broken = bytearray(ANNEX_B_EXAMPLE_1)
        broken[position] ^= 0x04
        content = decode(bytes(broken))
        assert (content.item_id, content.error, content.model) == (
            None, "CRC mismatch", "iso28560-3")
    demo_damaged = bytes.fromhex(
        "11010133333532303030303939393939390000dead434e343330323831000000")
    assert decode(demo_damaged).error == "CRC mismatch"
    assert decode(demo_damaged).item_id is None


def test_no_single_byte_error_yields_another_item_id():
    rng = random.Random(28560)
    for position in range(32):
        for _ in range(8):
            broken = bytearray(ANNEX_B_EXAMPLE_1)
            broken[position] ^= rng.randrange(1, 256)
            content = decode(bytes(broken))
            assert content.error is not None or content.item_id == "1000000056", broken.hex()


def test_blocks_stored_in_reverse_order_still_decode():
    content = decode(blocks_reversed(ANNEX_B_EXAMPLE_1))
    assert (content.item_id, content.isil, content.error) == ("1000000056", "DK-718500", None)


def test_nibble_swapped_patron_card():
    # A Russian patron card (public Rust decoder's test data): 0x81 = usage 8, version 1.
    card = basic_block(0x81, 1, 1, b"2935000003649", b"RU293")
    assert card[19:21] == bytes.fromhex("8793")
    assert decode(card) == TagContent(
        "2935000003649", "RU-293", "patron_card", 1, 1, "iso28560-3", None)


def test_unknown_version_is_not_trusted():
    content = decode(basic_block(0x33, 1, 1, b"123", b"DK718500"))
    assert content.item_id is None
    assert content.error == "unsupported ISO 28560-3 version 3"


def test_item_id_in_extension_block_is_reported():
    content = decode(basic_block(0x11, 1, 1, b"\x01", b"DK718500"))
    assert content.item_id is None
    assert "extension block" in content.error


def test_long_library_code_runs_into_bytes_32_and_33():
    tag = basic_block(0x11, 1, 1, b"12345", b"CN43028100123", size=34) + b"\0\0"
    assert bytes_wanted(tag[:32]) == 34
    assert decode(tag).isil == "CN-43028100123"
    assert decode(tag[:32]).error == "CRC mismatch"


@pytest.mark.parametrize("stored, shown", [
    (b"DK718500", "DK-718500"),
    (b"DK-718500", "DK-718500"),  # a writer that kept the hyphen
    (b"DEDE-705", "DE-705"),  # one that repeated the country (libdanrfid reports these)
    (b"CH000015-0", "CH-000015-0"),
    (b"", None),
])
def test_isil_as_stored_by_writers(stored, shown):
    assert decode(basic_block(0x11, 1, 1, b"42", stored, size=34) + b"\0\0").isil == shown


@pytest.mark.parametrize("nibble, name", [
    (0, "acquisition"), (1, "circulating"), (2, "not_for_circulation"), (7, "discarded"),
    (8, "patron_card"), (5, "other:5"),
])
def test_usage_names(nibble, name):
    assert decode(basic_block(0x10 | nibble, 1, 1, b"42", b"DK718500")).usage == name
    assert tagdata.USAGE_NAMES.get(nibble, f"other:{nibble}") == name
    for model in ("iso28560-3", "iso28560-2"):
        assert decode(encode(model, item_id="42", usage=name)).usage == name


# --- ISO 28560-2 ----------------------------------------------------------------------------

def test_published_28560_2_example_decodes():
    assert decode(ANNEX_D_TAG) == TagContent(
        "123456789012", "US-InU-Mu", None, 3, 12, "iso28560-2", None)
    assert decode(ANNEX_D_TAG + bytes(76), dsfid=0x06).item_id == "123456789012"
    assert bytes_wanted(ANNEX_D_TAG[:32]) == 112  # the ISIL runs on past byte 32


@pytest.mark.parametrize("isil, data", [
    ("DE-Heu1", "21408e16bf1f"),  # ISO 28560-2 Annex C, example 1
    ("US-InU-Mu", "acc09ebaa06f6b"),  # Annex D
])
def test_published_isil_encodings(isil, data):
    compacted = bytes.fromhex(data)
    tag = bytes([0x11, 1, 42, 0x03, len(compacted)]) + compacted + bytes([0x05, 1, 0x10, 0])
    assert decode(tag) == TagContent("42", isil, "circulating", 1, 1, "iso28560-2", None)
    assert encode("iso28560-2", item_id="42", isil=isil)[3:5 + len(compacted)] == (
        bytes([0x03, len(compacted)]) + compacted)


def test_6bit_numeric_and_utf8_item_ids():
    six_bit = bytes.fromhex("4107441cb6e2e335d600")  # QA268.L55, bytes from Annex D
    assert decode(six_bit).item_id == "QA268.L55"
    numeric = bytes([0x21, 4, 0x00, 0x12, 0x34, 0x5F, 0])
    assert decode(numeric).item_id == "0012345"
    utf8 = "图书0042".encode()
    assert decode(bytes([0x71, len(utf8)]) + utf8 + b"\0").item_id == "图书0042"


def test_numeric_that_is_not_digits_is_refused():
    content = decode(bytes([0x21, 2, 0x1C, 0xBE, 0]), dsfid=0x06)
    assert content.item_id is None
    assert "not decimal digits" in content.error


def test_unsupported_compaction_keeps_what_was_decoded():
    # Item id with compaction 0 (application-defined): not a text the kiosk can trust.
    tag = bytes([0x01, 3]) + b"123" + bytes([0x03, 6]) + bytes.fromhex("21408e16bf1f") + b"\0"
    content = decode(tag, dsfid=0x06)
    assert content.item_id is None
    assert content.isil == "DE-Heu1"
    assert content.error == "item id: compaction 0 (application-defined) not supported"
    # An ISIL as an integer: the item id stays, the error says what could not be read.
    tag = bytes([0x11, 1, 42, 0x13, 1, 7, 0])
    content = decode(tag, dsfid=0x06)
    assert content.item_id == "42"
    assert content.error == "owner library: compaction 1 (integer) not supported"


def test_object_ids_from_15_take_an_extra_byte():
    title = b"Hong Lou Meng"
    tag = (bytes([0x11, 1, 42, 0x6F, 17 - 15, len(title)]) + title  # title, OID 17, octets
           + bytes([0x05, 1, 0x80, 0]))
    assert decode(tag) == TagContent("42", None, "patron_card", 1, 1, "iso28560-2", None)


def test_28560_2_without_terminator_reads_on():
    tag = bytes([0x11, 1, 42]) + bytes([0x6F, 2, 40]) + bytes(27)  # a title set runs on
    assert bytes_wanted(tag[:32]) == 112
    assert bytes_wanted(bytes([0x11, 1, 42, 0x05, 1, 0x10, 0]) + bytes(25)) == 32


def test_28560_2_structure_errors():
    content = decode(bytes([0x11, 1, 42, 0x30, 1, 1, 0]), dsfid=0x06)  # object id 0
    assert content.item_id == "42"
    assert "object id 0" in content.error
    content = decode(bytes([0x11, 1, 42, 0x14, 3, 0x04, 0x93, 0xE1, 0]), dsfid=0x06)
    assert content.error == "set information: 300001 claims more than 255 parts"
    assert content.item_id == "42"
    content = decode(bytes([0x11, 9, 1, 2, 0]), dsfid=0x06)  # 9 bytes announced, 3 there
    assert content.error == "data runs past the end of memory"
    assert content.item_id is None


# --- 3M -------------------------------------------------------------------------------------

def test_3m_tags_from_biblio_rfid_tests():
    first = (b"\x04\x11\x00\x00" b"2009" b"0101" b"0123" b"\0\0\0\0"
             b"\xff\xff\xff\xff" b"\x7f\xff\xff\xff" b"\0\0\0\0")
    assert decode(first) == TagContent("200901010123", None, None, 1, 1, "3m", None)
    second = b"\x04\x11\x00\x01" b"1302" b"0037" b"67\0\0" + bytes(16)
    assert decode(second).item_id == "1302003767"
    assert bytes_wanted(first) == 32


def test_3m_set_nibbles():
    tag = b"\x04\x23\x00\x09" + b"33520000246801".ljust(16, b"\0") + bytes(12)
    content = decode(tag)
    assert (content.item_id, content.part, content.parts) == ("33520000246801", 2, 3)


def test_3m_garbage_after_the_barcode_is_not_trusted():
    tag = b"\x04\x11\x00\x00" + b"1234\0\0\x99\0".ljust(16, b"\0") + bytes(12)
    assert decode(tag).item_id is None


# --- blanks and unknowns --------------------------------------------------------------------

@pytest.mark.parametrize("memory, model", [
    (bytes(32), "unknown"), (b"\xff" * 112, "unknown"),
    (b"\x55" * 24 + bytes(8), "3m"),  # a factory-fresh 3M tag
])
def test_blank_tags(memory, model):
    assert decode(memory) == TagContent(None, None, None, model=model, error="blank tag")
    assert bytes_wanted(memory) == len(memory)


def test_unknown_data():
    assert decode(b"\xa5" * 32).error == "unknown data model"
    assert decode(b"").error == "no data read"
    assert decode(None).error is not None  # nonsense from a caller: an error, never a raise


# --- bytes_wanted ---------------------------------------------------------------------------

def test_bytes_wanted_before_32_bytes_are_read():
    assert bytes_wanted(b"") == 32
    assert bytes_wanted(ANNEX_B_EXAMPLE_1[:8]) == 32


# --- encode ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model, isil", [
    ("iso28560-3", "CN-430281"), ("iso28560-3", "CN-43028100123"), ("iso28560-3", None),
    ("iso28560-2", "CN-430281"), ("iso28560-2", "CH-000134-1"), ("iso28560-2", "US-InU-Mu"),
    ("3m", None),
])
def test_round_trip(model, isil):
    for item_id, part, parts in (("33520000123453", 1, 1), ("0042", 2, 3), ("B-17/x", 3, 3)):
        memory = encode(model, item_id=item_id, isil=isil, part=part, parts=parts)
        assert len(memory) % 4 == 0
        wanted = bytes_wanted(memory[:32])
        content = decode(memory[:max(wanted, 32)].ljust(max(wanted, 32), b"\0"),
                         dsfid=tagdata.DSFID[model])
        assert content.error is None
        assert (content.item_id, content.isil, content.part, content.parts, content.model) == (
            item_id, isil, part, parts, model)
        # Without the DSFID, and as a 112-byte tag holds it, the model shows from the bytes.
        assert decode(memory.ljust(112, b"\0")).item_id == item_id


def test_encoders_write_the_published_layouts():
    assert encode("iso28560-3", item_id="1000000056", isil="DK-718500") == ANNEX_B_EXAMPLE_1
    # Number of parts first, then the part (ISO 28560-1, 4.2.4); 3M: part in the high nibble.
    assert encode("iso28560-3", item_id="1", part=2, parts=3)[1:3] == bytes([3, 2])
    assert encode("iso28560-2", item_id="1", part=2, parts=3)[3:6] == bytes([0x14, 1, 32])
    assert encode("3m", item_id="1", part=2, parts=3)[:4] == bytes([0x04, 0x23, 0, 0])


def test_dsfid_values():
    assert tagdata.DSFID == {"iso28560-3": 0x3E, "iso28560-2": 0x06, "3m": 0x00}


@pytest.mark.parametrize("model, arguments, message", [
    ("iso28560-4", {}, "unknown tag data model"),
    ("iso28560-3", {"item_id": "12345678901234567"}, "1 to 16"),
    ("iso28560-3", {"item_id": ""}, "must not be empty"),
    ("iso28560-3", {"part": 3, "parts": 2}, "part must be between 1 and parts=2"),
    ("iso28560-3", {"part": 0}, "part must be between"),
    ("iso28560-3", {"parts": 256}, "parts must be between 1 and 255"),
    ("iso28560-3", {"isil": "CN430281"}, "two-letter country code"),
    ("iso28560-3", {"isil": "CN-430281001234"}, "two-letter country code"),
    ("iso28560-3", {"usage": "lost"}, "unknown usage 'lost'"),
    ("iso28560-2", {"isil": "not an isil"}, "ISIL must be"),
    ("iso28560-2", {"item_id": "x" * 120}, "does not fit"),
    ("iso28560-2", {"item_id": "a\nb"}, "printable"),
    ("3m", {"isil": "CN-430281"}, "no ISIL field"),
    ("3m", {"usage": "patron_card"}, "no type of usage"),
    ("3m", {"parts": 16}, "parts must be between 1 and 15"),
    ("3m", {"item_id": "图书"}, "ASCII"),
])
def test_encode_refuses(model, arguments, message):
    with pytest.raises(ValueError, match=message):
        encode(model, **{"item_id": "33520000123453", **arguments})


# --- fuzz -----------------------------------------------------------------------------------

def test_decode_never_raises_on_random_bytes():
    rng = random.Random(20240611)
    seeds = [ANNEX_B_EXAMPLE_1, ANNEX_D_TAG, LIBDANRFID_TAG,
             encode("3m", item_id="1302003767"), encode("iso28560-2", item_id="AB-12")]
    for round_ in range(4000):
        if round_ % 2:
            memory = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        else:  # near-valid data reaches the deeper paths
            memory = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                memory[rng.randrange(len(memory))] = rng.randrange(256)
            memory = bytes(memory)
        content = decode(memory, dsfid=rng.choice((None, 0x06, 0x3E, 0x00)))
        assert isinstance(content, TagContent)
        assert content.item_id is not None or content.error is not None
        assert 0 <= bytes_wanted(memory) <= 2048
