"""The SIP2 client against the shipped test ILS on a real 127.0.0.1 port: every message,
the server's refusals, faults on the wire, the lost-reply rule, character sets and TLS."""

import datetime as dt
import logging
import socket
import ssl
import threading

import pytest

from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.errors import (
    IlsOutcomeUnknown,
    IlsProtocolError,
    IlsRefused,
    IlsUnavailable,
    IlsUnsupported,
)
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_ils import IMPLEMENTED
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"
CHEN, LI, WANG = "23520001234566", "23520009876541", "23520005555552"
HONGLOUMENG, HUOZHE, SANTI = "33520000123453", "33520000456788", "33520000789014"
YINGYU, PINGFAN, CIDIAN, DILI = ("33520000246801", "33520000135792", "33520000864205",
                                 "33520000975316")


def start(**kwargs) -> Sip2TestServer:
    return Sip2TestServer(IlsData.load(DEMO), **kwargs).start()


@pytest.fixture
def server():
    ils = start()
    yield ils
    ils.stop()


def settings_for(ils: Sip2TestServer, **changes) -> IlsSettings:
    host, port = ils.address
    username, password = ils.login
    base = dict(host=host, port=port, username=username, password=password,
                institution="CN-430281", location="lobby", charset=ils.charset,
                timeout_s=0.5, retries=1)
    return IlsSettings(**{**base, **changes})


@pytest.fixture
def client(server):
    c = Sip2Client(settings_for(server))
    yield c
    c.close()


def codes(ils: Sip2TestServer, since: int = 0) -> list[str]:
    return [m.code for m in ils.history[since:]]


def test_every_message_a_kiosk_needs(server, client):
    sc = client.connect()
    assert sc.online and sc.checkout_ok and sc.checkin_ok and sc.renewal_ok
    assert {"63", "17", "11", "09", "29", "35"} <= sc.supported
    assert sc.institution == "CN-430281" and sc.library_name.startswith("醴陵市图书馆")

    patron = client.patron(CHEN, "1234")
    assert (patron.valid, patron.pin_ok, patron.name) == (True, True, "陈晓明")
    assert patron.charged == (PINGFAN,) and patron.charged_count == 1 and patron.blocks == ()
    item = client.item(SANTI)
    assert (item.title, item.circulation, item.hold_queue) == ("三体", "waiting_on_hold_shelf", 1)

    out = client.checkout(CHEN, HONGLOUMENG, "1234")
    assert out.ok and out.title == "红楼梦" and out.desensitize is True and not out.recovered
    assert out.due_date == dt.date.today() + dt.timedelta(days=30)
    assert client.item(HONGLOUMENG).circulation == "charged"
    back = client.checkin(HONGLOUMENG)
    assert back.ok and back.resensitize is True and back.sort_bin == "A" and not back.alert
    renewed = client.renew(CHEN, PINGFAN, "1234")
    assert renewed.ok and renewed.renewal and renewed.due_date > dt.date.today()
    client.end_session(CHEN)
    assert client.status().online
    assert codes(server) == ["93", "99", "63", "17", "11", "17", "09", "17", "29", "35", "99"]
    assert server.protocol_errors == []
    assert len(out.raw) == 2 and out.raw[0].startswith("11NN") and "红楼梦" in out.raw[1]


def test_what_the_library_refuses_comes_back_as_results(server, client):
    blocked = client.patron(WANG)
    assert blocked.blocks == ("charge_denied", "excessive_fines") and blocked.fines == "35.50"
    assert blocked.currency == "CNY"
    refused = client.checkout(WANG, HUOZHE)
    assert not refused.ok and "blocked" in refused.screen_message[0]
    on_hold = client.checkout(CHEN, SANTI)
    assert not on_hold.ok and "On hold for another patron" in on_hold.screen_message[0]
    reference = client.checkout(CHEN, CIDIAN)
    assert not reference.ok and "Not for loan" in reference.screen_message[0]
    unknown = client.checkout(CHEN, "33520000000000")
    assert not unknown.ok and "Unknown item" in unknown.screen_message[0]
    assert client.patron(CHEN, "9999").pin_ok is False
    stranger = client.patron("23520000000001")
    assert stranger.valid is False and stranger.name == ""
    assert client.patron(LI).holds_ready == ()  # 63 asked for charged items only
    assert client.patron(LI).hold_count == 1
    assert server.protocol_errors == []
    assert server.data.loans.keys() == {PINGFAN, DILI}


def test_a_two_part_item_and_a_return_that_needs_staff(server, client):
    kit = client.checkout(CHEN, YINGYU)
    assert kit.ok and kit.title == "英语听力" and kit.magnetic is True
    assert any("2 parts" in line for line in kit.screen_message)
    back = client.checkin(DILI)
    assert back.ok and back.alert and back.alert_type == "04" and back.sort_bin == "STAFF"
    not_lent = client.checkin(HUOZHE)
    assert not not_lent.ok and "not on loan" in not_lent.screen_message[0]


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_chinese_titles_in_each_charset(charset):
    with start(charset=charset) as ils:
        with _closing(Sip2Client(settings_for(ils, charset=charset))) as c:
            assert c.item(YINGYU).title == "英语听力"
            assert c.checkout(CHEN, HUOZHE).title == "活着"
        assert ils.protocol_errors == []


def test_the_wrong_charset_shows_replaced_text_and_never_crashes():
    with start(charset="gbk") as ils, _closing(Sip2Client(settings_for(ils, charset="utf-8"))) as c:
        title = c.item(HONGLOUMENG).title
        assert "\ufffd" in title and title != "红楼梦"
        assert c.patron(CHEN).valid is True
    with start(charset="cp850") as ils, \
            _closing(Sip2Client(settings_for(ils, charset="cp850"))) as c:
        assert c.item(HONGLOUMENG).title == "???"  # cp850 has no Chinese: the ILS sends ?


class _closing:
    def __init__(self, client):
        self.client = client

    def __enter__(self):
        return self.client

    def __exit__(self, *exc):
        self.client.close()


# --- faults on the wire -----------------------------------------------------------------

def test_a_dropped_reply_is_fetched_again_with_97(server, client):
    client.connect()
    server.faults.next("drop_reply", code="11")
    out = client.checkout(CHEN, HUOZHE)
    assert out.ok and not out.recovered
    assert codes(server)[-2:] == ["11", "97"]
    assert server.protocol_errors == []


def test_a_corrupted_checksum_is_answered_with_97(server, client):
    client.connect()
    server.faults.next("corrupt_checksum", code="17")
    assert client.item(HUOZHE).title == "活着"
    assert codes(server)[-2:] == ["17", "97"]


def test_bytes_that_are_not_sip2_are_answered_with_97(server, client):
    client.connect()
    server.faults.next("garble", code="99")
    assert client.status().online
    assert codes(server)[-2:] == ["99", "97"]


def test_a_reply_slower_than_the_timeout_is_not_taken_for_the_next_one(server, client):
    client.connect()
    server.faults.delay(0.8, code="17")  # past the 0.5 s timeout; the 97 brings it twice
    assert client.item(HUOZHE).title == "活着"
    # The late duplicate carries the old sequence number and is passed over.
    assert client.item(SANTI).title == "三体"
    assert client.patron(CHEN).name == "陈晓明"


def test_a_query_on_a_closed_connection_is_asked_again(server, client):
    client.connect()
    server.faults.next("close", code="17")
    assert client.item(HUOZHE).title == "活着"
    assert codes(server)[-4:] == ["17", "93", "99", "17"] and codes(server).count("93") == 2


def test_no_reply_at_all_times_out_on_every_call():
    silent = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        c = Sip2Client(IlsSettings(host="127.0.0.1", port=silent.getsockname()[1],
                                   timeout_s=0.3, retries=1))
        with pytest.raises(IlsUnavailable, match="no reply within 0.3 s"):
            c.connect()
        assert not c.connected
    finally:
        silent.close()
        for conn, _ in accepted:
            conn.close()


def test_a_refused_login_is_not_a_network_fault(server):
    server.faults.refuse_logins = True
    c = Sip2Client(settings_for(server))
    with pytest.raises(IlsRefused, match="username and password"):
        c.connect()
    assert not c.connected
    with pytest.raises(IlsRefused):
        Sip2Client(settings_for(server, password="wrong")).connect()


def test_the_server_gone_and_back(server, client):
    client.connect()
    server.faults.go_away()
    with pytest.raises(IlsUnavailable, match="Connection refused"):
        client.status()
    with pytest.raises(IlsUnavailable):
        client.checkout(CHEN, HUOZHE)
    server.faults.come_back()
    assert client.status().online and client.connected
    assert client.checkout(CHEN, HUOZHE).ok


def test_nothing_listening_is_unavailable_with_the_reason():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(IlsUnavailable, match="Connection refused"):
        Sip2Client(IlsSettings(host="127.0.0.1", port=port)).connect()
    with pytest.raises(IlsUnavailable, match="no ILS configured"):
        Sip2Client(IlsSettings()).connect()


# --- the lost-reply rule -------------------------------------------------------------------

def test_a_checkout_done_but_its_reply_lost_is_recovered_not_repeated(server, client):
    client.connect()
    server.faults.next("lose_reply", code="11")
    out = client.checkout(CHEN, HUOZHE)
    assert out.ok and out.recovered and out.title == "活着" and out.due_date is not None
    assert codes(server).count("11") == 1
    assert codes(server)[-5:] == ["11", "93", "99", "63", "17"]
    assert server.data.loans[HUOZHE].patron == CHEN


def test_without_63_the_item_is_asked_before_and_after():
    with start(supported=IMPLEMENTED - {"63"}) as ils, _closing(Sip2Client(settings_for(ils))) as c:
        c.connect()
        ils.faults.next("lose_reply", code="11")
        out = c.checkout(CHEN, HUOZHE)
        assert out.ok and out.recovered
        assert codes(ils)[2:] == ["17", "11", "93", "99", "17"]
        assert ils.protocol_errors == []


def test_without_63_an_item_already_charged_cannot_be_told_and_is_not_repeated():
    with start(supported=IMPLEMENTED - {"63"}) as ils, _closing(Sip2Client(settings_for(ils))) as c:
        ils.faults.next("lose_reply", code="11")
        with pytest.raises(IlsOutcomeUnknown, match="cannot tell"):
            c.checkout(LI, PINGFAN)  # charged to someone else already
        assert codes(ils).count("11") == 1


def test_a_checkout_that_never_arrived_is_sent_again_once_the_ils_says_so(server, client):
    client.connect()
    server.faults.next("ignore", code="11")
    out = client.checkout(CHEN, HUOZHE)
    assert out.ok and not out.recovered
    assert codes(server).count("11") == 2 and list(server.data.loans).count(HUOZHE) == 1
    assert "(reply lost" in out.raw[1]


def test_a_checkout_lost_twice_gives_up_without_lending(server, client):
    client.connect()
    server.faults.next("ignore", code="11", times=2)
    with pytest.raises(IlsUnavailable, match="not done"):
        client.checkout(CHEN, HUOZHE)
    assert HUOZHE not in server.data.loans and codes(server).count("11") == 2


def test_a_checkin_done_but_its_reply_lost_is_recovered(server, client):
    client.connect()
    server.faults.next("lose_reply", code="09")
    back = client.checkin(PINGFAN)
    assert back.ok and back.recovered and back.title == "平凡的世界"
    assert codes(server).count("09") == 1 and PINGFAN not in server.data.loans


def test_a_renewal_whose_reply_is_lost_is_recovered_not_repeated(server, client):
    client.connect()
    server.faults.next("lose_reply", code="29")
    renewed = client.renew(CHEN, PINGFAN)
    assert renewed.ok and renewed.recovered and renewed.due_date > dt.date.today()
    assert codes(server).count("29") == 1 and server.data.loans[PINGFAN].renewals == 1


# --- quirks, fallbacks, strictness --------------------------------------------------------

def test_a_server_that_asks_again_and_again_is_a_protocol_error(server):
    c = Sip2Client(settings_for(server, empty_fields="send"))
    with pytest.raises(IlsProtocolError, match="cannot read"):
        c.checkout(CHEN, HUOZHE, "")
    assert "11: optional field AD is sent empty" in server.protocol_errors
    assert HUOZHE not in server.data.loans


def test_blank_due_dates_against_a_server_that_rejects_them():
    with start(blank_dates_ok=False) as ils:
        with pytest.raises(IlsProtocolError):
            Sip2Client(settings_for(ils)).checkout(CHEN, HUOZHE)
        assert any("nb_due_date" in e for e in ils.protocol_errors)
        c = Sip2Client(settings_for(ils, no_due_date="transaction_date"))
        assert c.checkout(CHEN, HUOZHE).ok
        c.close()


def test_checksums_off_for_servers_without_error_detection():
    with start(strict=False) as ils, _closing(Sip2Client(settings_for(ils, checksums=False))) as c:
        assert c.item(HUOZHE).title == "活着"
        assert all(m.checksum is None for m in ils.history)
    with start() as strict, _closing(Sip2Client(settings_for(strict, checksums=False))) as c:
        with pytest.raises(IlsProtocolError):
            c.connect()
        assert "93: no checksum" in strict.protocol_errors


def test_fallbacks_when_bx_lacks_a_message():
    lacking = IMPLEMENTED - {"63", "17", "29", "35"}
    with start(supported=lacking) as ils, _closing(Sip2Client(settings_for(ils))) as c:
        patron = c.patron(WANG, "0000")
        assert patron.name == "王强" and patron.blocks == ("charge_denied", "excessive_fines")
        assert patron.charged == () and patron.pin_ok is True
        with pytest.raises(IlsUnsupported, match="item information"):
            c.item(HUOZHE)
        with pytest.raises(IlsUnsupported, match="renew"):
            c.renew(CHEN, PINGFAN)
        c.end_session(CHEN)
        # A lost checkout reply cannot be checked at all: never sent twice.
        ils.faults.next("lose_reply", code="11")
        with pytest.raises(IlsOutcomeUnknown, match="cannot tell"):
            c.checkout(CHEN, HUOZHE)
        assert codes(ils) == ["93", "99", "23", "11", "93", "99"]
        assert ils.protocol_errors == []


def test_no_block_and_the_original_time_for_offline_replays(server, client):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    out = client.checkout(WANG, HUOZHE, no_block=True, when=when)  # blocked, but it happened
    assert out.ok and out.due_date == when.astimezone().date() + dt.timedelta(days=30)
    request = server.history[-1]
    assert request.get("no_block") == "Y"
    assert request.get("transaction_date") == when.astimezone().strftime("%Y%m%d    %H%M%S")
    back = client.checkin(HUOZHE, no_block=True, when=when)
    assert back.ok and server.history[-1].get("return_date") == request.get("transaction_date")


def test_the_wire_log_masks_patrons_and_hides_secrets(server, client, caplog):
    with caplog.at_level(logging.DEBUG, logger="kiosk.sip2.wire"):
        client.checkout(CHEN, HUOZHE, "1234")
    wire = [r.getMessage() for r in caplog.records if r.name == "kiosk.sip2.wire"]
    assert any(line.startswith("-> 11") for line in wire)
    assert any(line.startswith("<- 12") for line in wire)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert CHEN not in text and "**********4566" in text
    assert "demo-sip2" not in text and "AD1234" not in text


# --- TLS ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_tls_with_a_self_signed_certificate(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with start(tls=context) as ils:
        with _closing(Sip2Client(settings_for(ils, tls=True, tls_ca=str(cert)))) as c:
            assert c.item(HONGLOUMENG).title == "红楼梦"
        with pytest.raises(IlsUnavailable, match="not trusted"):
            Sip2Client(settings_for(ils, tls=True)).connect()
        with _closing(Sip2Client(settings_for(ils, tls=True, tls_verify=False))) as c:
            assert c.connect().online
        with pytest.raises(IlsUnavailable):
            Sip2Client(settings_for(ils, tls=False)).connect()  # plain text to a TLS port
