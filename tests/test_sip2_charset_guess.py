"""Mojibake: text from the ILS in another charset than `[ils] charset` is noticed and named,
by the pure guess on bytes and by the client against the test ILS run in another charset."""

import pytest

from kiosk.sip2.charset_guess import looks_like
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"
CHEN, HONGLOUMENG = "23520001234566", "33520000123453"
TEXTS = ["醴陵市图书馆 Liling City Library", "红楼梦", "陈晓明", "平凡的世界",
         "中国国家地理"]


def reply(text: str, charset: str) -> bytes:
    return b"1803020120261201    093000AB1|AJ" + text.encode(charset) + b"|AY1AZ0000"


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("sent, read, expected", [
    ("utf-8", "cp850", "utf-8"), ("utf-8", "gbk", "utf-8"), ("gbk", "utf-8", "gbk"),
    ("gbk", "cp850", "gbk"), ("utf-8", "utf-8", None), ("gbk", "gbk", None)])
def test_chinese_in_one_charset_read_in_another_is_named(text, sent, read, expected):
    assert looks_like(reply(text, sent), read) == expected


@pytest.mark.parametrize("data", [
    b"98YYYNYN03000320261201    0930002.00AOlib|AMLiling|BXYYYY|AY1AZ0000",  # ASCII only
    "Bibliothèque Fréjus".encode("cp850"),   # Western text in the SIP2 default charset
    "Bibliothèque Fréjus".encode(),
])
def test_no_guess_without_chinese_evidence(data):
    for configured in ("utf-8", "gbk", "cp850"):
        guess = looks_like(data, configured)
        assert guess in (None, "utf-8") and (guess != "utf-8" or configured != "utf-8")


def test_western_utf8_read_as_cp850_is_named():
    assert looks_like("Bibliothèque".encode(), "cp850") == "utf-8"
    assert looks_like("Bibliothèque".encode("cp850"), "cp850") is None


def settings_for(ils, charset):
    username, password = ils.login
    return IlsSettings(host=ils.address[0], port=ils.address[1], username=username,
                       password=password, charset=charset, timeout_s=2.0, retries=1)


@pytest.mark.parametrize("server, client, expected", [
    ("gbk", "utf-8", "gbk"), ("utf-8", "gbk", "utf-8"), ("utf-8", "cp850", "utf-8"),
    ("gbk", "gbk", None), ("utf-8", "utf-8", None), ("cp850", "cp850", None)])
def test_the_client_names_the_servers_charset(server, client, expected, caplog):
    with Sip2TestServer(IlsData.load(DEMO), charset=server) as ils:
        c = Sip2Client(settings_for(ils, client))
        status = c.connect()  # the 98 carries the library's name
        assert c.charset_hint == expected
        c.item(HONGLOUMENG)
        c.patron(CHEN)
        assert c.charset_hint == expected
        c.close()
    if expected:
        assert status.library_name != "醴陵市图书馆 Liling City Library"
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert sum(f'[ils] charset = "{expected}"' in w for w in warnings) == 1
