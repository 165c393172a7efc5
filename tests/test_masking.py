"""Log masking (common/masking.py): every card format the kiosk reads is masked, wherever it
stands in a line; the identifiers a technician matches with the server are not. The log lines
are the code's own format strings, read from its source so a changed line fails here."""

import logging
import re
import uuid

import pytest

from common.logsetup import MaskingFormatter
from common.masking import mask, mask_numbers_in
from drivers.barcode.classify import luhn_ok
from tests.conftest import ROOT

CARD = "23520001234566"  # the seed library's 14-digit card, prefix 2, Luhn
BATCH = "3f6c2a1e-9b4d-4e21-8a3c-202612070930"  # a batch id whose last group is all digits
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def logged(source: str, fmt: str, *args) -> str:
    """The line `fmt % args` as the kiosk's log formatter writes it, once `fmt` is found in
    `source` (a path under the repository): the test follows the code's real log line."""
    assert fmt in (ROOT / source).read_text(encoding="utf-8"), f"{fmt!r} not in {source}"
    record = logging.LogRecord("kiosk.test", logging.INFO, source, 1, fmt, args, None)
    return MaskingFormatter(journald=True).format(record)


def test_the_cards_the_kiosk_reads_never_reach_the_log():
    assert luhn_ok(CARD)
    cards = {
        CARD: "**********4566",  # barcode on a library card
        "00123456": "****3456",  # an older 8-digit card
        "3512345678": "******5678",  # a card reader's line: a Mifare UID in decimal
        "13812345678": "*******5678",  # a phone number as the e-card
        "43022319800101123X": "*************1123X",  # an ID-card number as the e-card
        "E004015012345678": "E***********5678",  # an RFID card's UID, masked as before
        "２３５２０００１２３４５６６": "**********４５６６",  # full-width digits typed in
    }
    for card, masked in cards.items():
        for line in (f"card {card} at desk 12", f"ECARD:{card}", f"patron={card}",
                     f"patron_id: '{card}'", f'{{"card": "{card}"}}', f"读者证{card}已挂失",
                     f"AO醴陵|AA{card}|AC|", f"({card})", f"{card}."):
            out = mask_numbers_in(line)
            assert masked in out and card not in out, (line, out)


def test_the_cases_that_masked_before_still_do():
    assert mask(CARD) == "**********4566" and mask("123") == "***"
    assert mask_numbers_in(f"card {CARD} item 12345") == "card **********4566 item 12345"
    assert mask_numbers_in(f"Patron {CARD} blocked") == "Patron **********4566 blocked"
    # a key that names a count does not save a card written beside it
    assert CARD not in mask_numbers_in(f"seq=12 card={CARD} n=3")
    # a readable word near a card, not around it, saves nothing
    for line in (f"rows to {CARD}", f"{CARD} to 1234567", f"seq {CARD}", f"v{CARD}",
                 f"{CARD}-{CARD}", f"1.2.{CARD}x", f"{BATCH[:-1]}{CARD}", f"uid={CARD}",
                 f"cardseq={CARD}", f"user_count={CARD}", f"{CARD}ABCDEF{'0' * 12}"):
        assert CARD not in mask_numbers_in(line), line


def test_identifiers_stay_readable():
    for line in (f"batch {BATCH}", f"batch {BATCH.upper()}", f"sha256 {SHA256}",
                 "boot 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
                 "git 1234567890abcdef1234567890abcdef12345678",
                 "system update 1.4.0+20261207093000", "version 2026.12.1", "kernel 6.1.0-20261207",
                 "at 2026-12-07T09:28:59.123456+00:00", "09:28:59,123456", "20261207T093000Z",
                 "first_seq=1234567 last_seq=1237000", "{'first_seq': 1234567}", "pid 4242",
                 "time=1765099739 port=8000"):
        assert mask_numbers_in(line) == line, line


@pytest.mark.parametrize("source, fmt, args, readable", [
    ("kiosk/upload/run.py", "rows %d to %d sent as %d counts (batch %s%s)",
     (1000001, 1003000, 212, BATCH, ""), ["1000001", "1003000", BATCH]),
    ("kiosk/upload/run.py", "pending batch %s (rows %d to %d) does not follow the rows sent "
     "(up to %d); ", (BATCH, 2000001, 2003000, 2000000), [BATCH, "2000001", "2000000"]),
    ("kiosk/upload/run.py", "%d batches sent; %d rows are left for the next run",
     (12, 1250000), ["1250000 rows"]),
    ("kiosk/upload/run.py", "%d rows pruned: rows 1 to %d are uploaded and older than %d days; ",
     (150000, 1150000, 400), ["150000 rows", "rows 1 to 1150000"]),
    ("kiosk/delivery/download.py", "%s downloaded and verified (sha256 %s)",
     ("kiosk-1.4.0+20261207093000.raucb", SHA256), [SHA256, "1.4.0+20261207093000"]),
    ("central/api.py", "kiosk %s: batch %s rows %d..%d%s",
     ("liling-lobby-1", BATCH, 1000001, 1003000, ""), [BATCH, "1000001..1003000"]),
])
def test_real_log_lines_keep_their_identifiers(source, fmt, args, readable):
    line = logged(source, fmt, *args)
    assert "*" not in line, line
    for text in readable:
        assert text in line


def test_real_log_lines_mask_the_card_in_them():
    line = logged("kiosk/ils/worker.py", "ILS %s failed: %s", "checkout",
                  f"Patron {CARD} blocked (batch {BATCH})")
    assert CARD not in line and "**********4566" in line and BATCH in line
    frame = f"64              00120261207    093000AO醴陵|AA{CARD}|AEChen|"
    line = logged("kiosk/sip2/client.py", "<- (unreadable) %s", repr(frame))
    assert CARD not in line and "AA**********4566|" in line
    assert re.search(r"<6>kiosk\.test: ", line)


def test_a_line_without_long_numbers_is_left_alone():
    line = "rows 1 to 12 sent as 3 counts (batch " + str(uuid.UUID(int=5)) + ")"
    assert mask_numbers_in(line) == line
