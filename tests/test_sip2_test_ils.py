"""The shipped test ILS: its data file, the demo's library, and its strictness on the wire
(raw bytes over a real socket, so nothing of our client softens what it sees)."""

import json
import socket
import tomllib

import pytest

from kiosk.sip2.codec import checksum, decode
from kiosk.sip2.framing import FrameReader
from kiosk.sip2.standin_data import IlsData, IlsDataError
from kiosk.sip2.standin_server import Sip2TestServer, start_demo_ils
from tests.conftest import ROOT

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"


def test_the_demo_library_has_the_demo_cards_and_books():
    data = IlsData.load(DEMO)
    samples = json.loads((ROOT / "kiosk/demo/samples.json").read_text(encoding="utf-8"))
    for card in samples["cards"]:
        assert data.patrons[card["code"]].name in card["label"]
    for book in samples["books"]:
        assert f"《{data.items[book['code']].title}》" in book["label"]
    pad = tomllib.loads((ROOT / "drivers/sim/scenarios/demo.toml").read_text(encoding="utf-8"))
    for tag in pad["tag"]:
        if "item_id" in tag:
            item = data.items[tag["item_id"]]
            assert item.title in tag["label"] and item.parts == tag.get("parts", 1)
    assert any(p.blocks for p in data.patrons.values())
    assert any(i.on_hold_for for i in data.items.values())
    assert any(i.not_for_loan for i in data.items.values())
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in i.title) for i in data.items.values())


@pytest.mark.parametrize("text, message", [
    ("[[patron]]\nname = 'x'\n", "barcode"),
    ("[[patron]]\nbarcode = 2352\nname = 'x'\n", "barcode must be a string"),
    ("[[item]]\nbarcode = '1'\ntitle = 't'\nparts = 'two'\n", "parts must be a whole number"),
    ("[[item]]\nbarcode = '1'\ntitle = 't'\nstatus = 'charged'\n", "loans go in [[loan]]"),
    ("[[item]]\nbarcode = '1'\ntitle = 't'\non_hold_for = '9'\n", "on_hold_for names no patron"),
    ("[[loan]]\npatron = '1'\nitem = '2'\n", "must be listed above"),
    ("[rules]\nloan_weeks = 3\n", "unknown loan_weeks"),
    ("[library]\ncolour = 'red'\n", "unknown colour"),
    ("[shelves]\n", "unknown shelves"),
    ("not toml", "not valid TOML"),
])
def test_a_bad_data_file_names_the_entry(text, message):
    with pytest.raises(IlsDataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        IlsData.from_toml(text)


def test_start_demo_ils_listens_on_a_free_local_port():
    server = start_demo_ils(DEMO)
    try:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0 and server.login == ("kiosk", "demo-sip2")
        with socket.create_connection(server.address, timeout=5):
            pass
    finally:
        server.stop()
        server.stop()  # idempotent


@pytest.fixture
def raw():
    """A strict test ILS without logins, and a raw socket with a frame reader on it."""
    with Sip2TestServer(IlsData(institution="lib")) as server:
        sock = socket.create_connection(server.address, timeout=5)
        reader = FrameReader(sock.recv)
        yield server, sock, reader
        sock.close()


def signed(text: str) -> bytes:
    data = text.encode()
    return data + checksum(data).encode()


def test_strict_about_checksums_and_framing(raw):
    server, sock, reader = raw
    sock.sendall(signed("9900402.00AY1AZ") + b"\r")
    assert decode(reader.read_frame(), charset="utf-8").code == "98"
    sock.sendall(b"9900402.00AY2AZ0000\r")                       # wrong checksum
    assert reader.read_frame().startswith(b"96")
    sock.sendall(b"9900402.00\r")                                # none at all
    assert reader.read_frame().startswith(b"96")
    sock.sendall(signed("9900402.00AY3AZ") + b"\r\n")            # CRLF: a stray LF follows
    assert decode(reader.read_frame(), charset="utf-8").code == "98"
    sock.sendall(signed("9900402.00AY4AZ") + b"\r")
    assert reader.read_frame().startswith(b"96")
    assert server.protocol_errors[:2] == ["99: wrong checksum", "99: no checksum"]
    assert server.protocol_errors[2].startswith("stray LF")


def test_strict_about_fields(raw):
    server, sock, reader = raw
    sock.sendall(signed("1720261201    093000AOlib|AB1|AC|AY1AZ") + b"\r")
    assert reader.read_frame().startswith(b"96")
    sock.sendall(signed("17nonsense-date!!!!!AOlib|AB1|AY2AZ") + b"\r")
    assert reader.read_frame().startswith(b"96")
    sock.sendall(signed("1720261201    093000AB1|AY3AZ") + b"\r")
    assert reader.read_frame().startswith(b"96")
    assert server.protocol_errors == [
        "17: optional field AC is sent empty",
        "17: transaction_date 'nonsense-date!!!!!' is not a SIP2 date",
        "17: required field AO is missing"]
    sock.sendall(signed("1720261201    093000AOlib|AB1|AY4AZ") + b"\r")
    reply = decode(reader.read_frame(), charset="utf-8")
    assert reply.code == "18" and reply.seq == 4 and reply.checksum_ok
    assert "Unknown item" in reply.first("AF")


def test_a_resend_request_gets_the_last_reply_again(raw):
    server, sock, reader = raw
    sock.sendall(signed("9900402.00AY5AZ") + b"\r")
    first = reader.read_frame()
    sock.sendall(signed("97AZ") + b"\r")
    assert reader.read_frame() == first
    assert [m.code for m in server.history] == ["99", "97"]


def test_logins_are_required_when_the_library_has_accounts():
    with Sip2TestServer(IlsData(accounts={"kiosk": "pw"})) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(signed("9900402.00AY1AZ") + b"\r")
            assert sock.recv(100) == b""  # closed
        assert server.protocol_errors == ["99: before a login"]


def test_a_message_bx_does_not_admit_is_noted_and_not_answered():
    with Sip2TestServer(IlsData(), supported={"99", "11"}) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            reader = FrameReader(sock.recv)
            sock.sendall(signed("1720261201    093000AO|AB1|AY1AZ") + b"\r")
            sock.sendall(signed("9900402.00AY2AZ") + b"\r")
            status = decode(reader.read_frame(), charset="utf-8")
            assert status.code == "98" and status.first("BX") == "NYNNYNNNNNNNNNNN"
        assert server.protocol_errors == ["17: sent although BX does not admit it"]


# --- modes that mimic another real server ----------------------------------------------------

PATRON_63 = "63000{date}  Y       AOlib|AA{patron}|{pin}AY{seq}AZ"


def patron_request(patron: str, seq: int, pin: str | None = None) -> bytes:
    text = PATRON_63.format(date="20261201    093000", patron=patron, seq=seq,
                            pin=f"AD{pin}|" if pin is not None else "")
    return signed(text) + b"\r"


def test_cq_only_when_the_request_carries_a_pin_or_always():
    from kiosk.sip2.standin_data import Patron
    from kiosk.sip2.standin_ils import PinCheck

    data = IlsData(institution="lib", patrons={"1": Patron("1", "A", pin="1234"),
                                               "2": Patron("2", "B")})
    answers = {}
    for mode in PinCheck:
        with Sip2TestServer(data, pin_check=mode) as server, \
                socket.create_connection(server.address, timeout=5) as sock:
            reader = FrameReader(sock.recv)
            for n, (patron, pin) in enumerate([("1", None), ("2", None), ("1", "1234"),
                                               ("1", "9")]):
                sock.sendall(patron_request(patron, n, pin))
                reply = decode(reader.read_frame(), charset="utf-8")
                answers[mode, patron, pin] = reply.first("CQ", None)
    assert [answers[PinCheck.WHEN_SENT, *key] for key in
            [("1", None), ("2", None), ("1", "1234"), ("1", "9")]] == [None, None, "Y", "N"]
    assert [answers[PinCheck.ALWAYS, *key] for key in
            [("1", None), ("2", None), ("1", "1234"), ("1", "9")]] == ["N", "Y", "Y", "N"]


def test_a_resend_request_gets_the_last_reply_renumbered_when_asked():
    with Sip2TestServer(IlsData(institution="lib"), renumber_resends=True) as server, \
            socket.create_connection(server.address, timeout=5) as sock:
        reader = FrameReader(sock.recv)
        sock.sendall(signed("9900402.00AY5AZ") + b"\r")
        first = decode(reader.read_frame(), charset="utf-8")
        sock.sendall(signed("97AZ") + b"\r")
        again = decode(reader.read_frame(), charset="utf-8")
    assert (first.seq, again.seq) == (5, 0) and again.checksum_ok
    assert (again.code, again.fixed[:6], again.fields) == (first.code, first.fixed[:6],
                                                           first.fields)


def test_an_idle_connection_is_closed_after_the_idle_timeout():
    with Sip2TestServer(IlsData(institution="lib"), idle_timeout_s=0.2) as server, \
            socket.create_connection(server.address, timeout=5) as sock:
        sock.sendall(signed("9900402.00AY1AZ") + b"\r")
        reader = FrameReader(sock.recv)
        assert decode(reader.read_frame(), charset="utf-8").code == "98"
        with pytest.raises(EOFError):
            reader.read_frame()  # nothing more is sent: the server closes the idle link
        assert server.idle_closed == 1


def test_the_sc_status_reports_the_policy_it_is_given_and_lends_anyway():
    from kiosk.sip2.standin_data import Item, Patron
    from kiosk.sip2.standin_ils import ScPolicy

    data = IlsData(institution="lib", patrons={"1": Patron("1", "A")},
                   items={"9": Item("9", "T")})
    with Sip2TestServer(data, policy=ScPolicy(checkout=False)) as server, \
            socket.create_connection(server.address, timeout=5) as sock:
        reader = FrameReader(sock.recv)
        sock.sendall(signed("9900402.00AY1AZ") + b"\r")
        status = decode(reader.read_frame(), charset="utf-8")
        assert (status.get("online"), status.get("checkin_ok"), status.get("checkout_ok")) == \
            ("Y", "Y", "N")
        sock.sendall(signed("11NN20261201    093000                  AOlib|AA1|AB9|AC|AY2AZ")
                     + b"\r")
        assert decode(reader.read_frame(), charset="utf-8").get("ok") == "1"
    assert data.loans["9"].patron == "1"
