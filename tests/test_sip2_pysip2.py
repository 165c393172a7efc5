"""Our SIP2 client against a server we did not write: pysip2's AnyIO SIP2Server (its framing,
its strict msgspec codec with checksums required, its login gate, its resend handling).
pysip2 is a server framework, so the library behind it is a few handlers here; every byte
on the wire is read and written by pysip2's code. Also our codec against pysip2's codec."""

import datetime as dt

import pysip2
import pytest
from anyio.from_thread import start_blocking_portal  # pysip2 brings anyio
from pysip2 import (
    CHECKIN,
    CHECKOUT,
    END_PATRON_SESSION,
    ITEM_INFORMATION,
    LOGIN,
    PATRON_INFORMATION,
    RENEW,
    CheckinResponse,
    CheckoutResponse,
    EndSessionResponse,
    ItemInformationResponse,
    LoginResponse,
    PatronInformationResponse,
    RenewResponse,
    SIP2Server,
)

from kiosk.sip2 import build
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.codec import decode, encode
from kiosk.sip2.errors import IlsRefused, IlsUnavailable

CHEN, HONGLOUMENG, HUOZHE = "23520001234566", "33520000123453", "33520000456788"
TITLES = {HONGLOUMENG: "红楼梦", HUOZHE: "活着"}


def library_app(encoding: str) -> tuple[SIP2Server, dict[str, str]]:
    """A pysip2 server with two books and one patron; `loans` maps item -> patron."""
    app = SIP2Server(error_detection="required", encoding=encoding, login_required=True,
                     institution_id="CN-430281", library_name="醴陵市图书馆")
    loans: dict[str, str] = {}

    def due() -> str:
        return (dt.date.today() + dt.timedelta(days=30)).strftime("%Y%m%d") + "    235959"

    @app.route(LOGIN)
    def login(req, ctx):
        right = (req.login_user_id, req.login_password) == ("kiosk", "pw")
        return LoginResponse(ok="1" if right else "0")

    @app.route(PATRON_INFORMATION)
    def patron(req, ctx):
        charged = tuple(item for item, who in loans.items() if who == req.patron_identifier)
        known = req.patron_identifier == CHEN
        return PatronInformationResponse(
            patron_status=" " * 14, language="000", transaction_date=ctx.now_18(),
            hold_items_count="0000", overdue_items_count="0000",
            charged_items_count=f"{len(charged):04d}", fine_items_count="0000",
            recall_items_count="0000", unavailable_holds_count="0000",
            institution_id=req.institution_id, patron_identifier=req.patron_identifier,
            personal_name="陈晓明" if known else "", valid_patron="Y" if known else "N",
            valid_patron_password=None if req.patron_password is None
            else ("Y" if req.patron_password == "1234" else "N"),
            charged_items=charged if req.summary[2] == "Y" else ())

    @app.route(ITEM_INFORMATION)
    def item(req, ctx):
        lent = req.item_identifier in loans
        return ItemInformationResponse(
            circulation_status="04" if lent else "03", security_marker="02", fee_type="01",
            transaction_date=ctx.now_18(), due_date=due() if lent else None,
            item_identifier=req.item_identifier,
            title_identifier=TITLES.get(req.item_identifier, ""))

    @app.route(CHECKOUT)
    def checkout(req, ctx):
        ok = req.item_identifier in TITLES and req.item_identifier not in loans
        if ok:
            loans[req.item_identifier] = req.patron_identifier
        return CheckoutResponse(
            ok="1" if ok else "0", renewal_ok="N", magnetic_media="N",
            desensitize="Y" if ok else "N", transaction_date=ctx.now_18(),
            institution_id=req.institution_id, patron_identifier=req.patron_identifier,
            item_identifier=req.item_identifier,
            title_identifier=TITLES.get(req.item_identifier, ""), due_date=due() if ok else "",
            screen_message=() if ok else ("not available",))

    @app.route(CHECKIN)
    def checkin(req, ctx):
        ok = loans.pop(req.item_identifier, None) is not None
        return CheckinResponse(
            ok="1" if ok else "0", resensitize="Y" if ok else "N", magnetic_media="N",
            alert="N", transaction_date=ctx.now_18(), institution_id=req.institution_id,
            item_identifier=req.item_identifier, permanent_location="中文图书",
            title_identifier=TITLES.get(req.item_identifier), sort_bin="A")

    @app.route(RENEW)
    def renew(req, ctx):
        ok = loans.get(req.item_identifier) == req.patron_identifier
        return RenewResponse(
            ok="1" if ok else "0", renewal_ok="Y" if ok else "N", magnetic_media="N",
            desensitize="N", transaction_date=ctx.now_18(), institution_id=req.institution_id,
            patron_identifier=req.patron_identifier, item_identifier=req.item_identifier or "",
            title_identifier=TITLES.get(req.item_identifier, ""), due_date=due())

    @app.route(END_PATRON_SESSION)
    def end_session(req, ctx):
        return EndSessionResponse(end_session="Y", transaction_date=ctx.now_18(),
                                  institution_id=req.institution_id,
                                  patron_identifier=req.patron_identifier)

    return app, loans


@pytest.fixture(params=["utf-8", "gbk"])
def pysip2_server(request):
    app, loans = library_app(request.param)
    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(app.start(host="127.0.0.1", port=0)) as port:
            yield port, request.param, loans


def settings(port: int, charset: str, **changes) -> IlsSettings:
    base = dict(host="127.0.0.1", port=port, username="kiosk", password="pw",
                institution="CN-430281", location="lobby", charset=charset, timeout_s=2.0,
                retries=1, no_due_date="transaction_date")
    return IlsSettings(**{**base, **changes})


def test_every_message_against_pysip2(pysip2_server):
    port, charset, loans = pysip2_server
    client = Sip2Client(settings(port, charset))
    try:
        sc = client.connect()
        assert sc.online and sc.checkout_ok and sc.library_name == "醴陵市图书馆"
        assert {"63", "17", "11", "09", "29", "35"} <= sc.supported and "23" not in sc.supported
        patron = client.patron(CHEN, "1234")
        assert (patron.name, patron.valid, patron.pin_ok) == ("陈晓明", True, True)
        assert patron.charged == ()
        assert client.item(HONGLOUMENG).title == "红楼梦"
        out = client.checkout(CHEN, HONGLOUMENG, "1234")
        assert out.ok and out.title == "红楼梦" and out.desensitize is True
        assert out.due_date == dt.date.today() + dt.timedelta(days=30)
        assert loans == {HONGLOUMENG: CHEN}
        assert client.patron(CHEN).charged == (HONGLOUMENG,)
        assert client.item(HONGLOUMENG).circulation == "charged"
        assert client.renew(CHEN, HONGLOUMENG).ok
        assert not client.checkout(CHEN, HONGLOUMENG).ok
        back = client.checkin(HONGLOUMENG)
        assert back.ok and back.resensitize and back.permanent_location == "中文图书"
        client.end_session(CHEN)
        assert client.status().online
    finally:
        client.close()


def test_pysip2_rejects_blank_due_dates_and_no_book_is_lent_twice(pysip2_server):
    """pysip2 validates the nb due date as a date and drops the connection on 18 blanks:
    the reason for the `no_due_date` quirk. The client asks before it tries again."""
    port, charset, loans = pysip2_server
    client = Sip2Client(settings(port, charset, no_due_date="blanks"))
    try:
        with pytest.raises(IlsUnavailable, match="not done"):
            client.checkout(CHEN, HUOZHE)
        assert loans == {}
    finally:
        client.close()


def test_pysip2_refuses_a_wrong_login(pysip2_server):
    port, charset, _ = pysip2_server
    with pytest.raises(IlsRefused):
        Sip2Client(settings(port, charset, password="wrong")).connect()


def test_our_requests_decode_with_pysip2s_codec_and_its_replies_with_ours():
    now = dt.datetime(2026, 12, 1, 9, 30)
    ours = IlsSettings(institution="CN-430281", location="lobby", no_due_date="transaction_date")
    for request in (build.login(IlsSettings(username="u", password="p")), build.sc_status(),
                    build.patron_information(ours, CHEN, "1234", now),
                    build.patron_status(ours, CHEN, None, now),
                    build.item_information(ours, HONGLOUMENG, now),
                    build.checkout(ours, CHEN, HONGLOUMENG, None, no_block=True, when=now),
                    build.checkin(ours, HONGLOUMENG, no_block=False, when=now),
                    build.renew(ours, CHEN, HONGLOUMENG, None, now),
                    build.end_session(ours, CHEN, now), build.resend()):
        data = encode(request, charset="gbk", seq=7, with_checksum=True)
        decoded = pysip2.decode_message(data + b"\r", encoding="gbk")
        assert decoded.checksum == data[-4:].decode()
        if request.code != "97":
            assert decoded.sequence_number == 7
    reply = CheckoutResponse(ok="1", renewal_ok="N", magnetic_media="U", desensitize="Y",
                             transaction_date="20261201    093000", institution_id="CN-430281",
                             patron_identifier=CHEN, item_identifier=HONGLOUMENG,
                             title_identifier="红楼梦", due_date="20261231    235959",
                             screen_message=("一", "二"))
    frame = pysip2.encode_message(reply, sequence_number=3, checksum=True, encoding="gbk")
    msg = decode(frame[:-1], charset="gbk")
    assert msg.checksum_ok and msg.seq == 3 and msg.first("AJ") == "红楼梦"
    assert msg.all("AF") == ("一", "二") and msg.get("magnetic_media") == "U"
    assert pysip2.calculate_checksum(b"09N20160419    12200820160419    122008APReading Room 1|"
                                     b"AO830|AB830$28170815|AC|AY2AZ") == "EB80"
