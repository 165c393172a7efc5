"""Signed QR download links and the Wi-Fi QR text."""

from __future__ import annotations

import hashlib
import hmac
import stat
from urllib.parse import parse_qs, urlsplit

import pytest

from kiosk.ebooks.links import LinkKeyError, LinkSigner, load_or_make_key
from kiosk.ebooks.wifi import wifi_qr_payload

KEY = bytes(range(32))
NOW = 1_795_000_000


def signer(**kw) -> LinkSigner:
    return LinkSigner(KEY, "liling-lobby-1", "http://192.168.1.20:8080/", ttl_s=1800, **kw)


def parts(link: str):
    url = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    return url, query


def test_a_link_follows_the_contract_and_its_signature_is_an_hmac_anyone_with_the_key_can_check():
    link = signer().link("000123", NOW)
    url, q = parts(link)
    assert (url.scheme, url.netloc, url.path) == ("http", "192.168.1.20:8080", "/d/000123")
    assert (q["k"], q["e"]) == ("liling-lobby-1", str(NOW + 1800))
    expected = hmac.new(KEY, f"000123|liling-lobby-1|{NOW + 1800}".encode(),
                        hashlib.sha256).hexdigest()[:32]
    assert q["s"] == expected
    assert signer().check("000123", q["k"], q["e"], q["s"], NOW + 1799) is None


@pytest.mark.parametrize("change, reason", [
    (lambda q: {**q, "s": "0" * 32}, "bad signature"),
    (lambda q: {**q, "e": str(int(q["e"]) + 3600)}, "bad signature"),  # a longer life, forged
    (lambda q: {**q, "k": "other-kiosk"}, "other kiosk"),
    (lambda q: {**q, "e": "soon"}, "malformed"),
])
def test_tampered_links_are_refused_with_the_reason(change, reason):
    _, q = parts(signer().link("000123", NOW))
    q = change(q)
    assert signer().check("000123", q["k"], q["e"], q["s"], NOW) == reason


def test_a_signature_is_good_for_its_own_title_only():
    _, q = parts(signer().link("000123", NOW))
    assert signer().check("000124", q["k"], q["e"], q["s"], NOW) == "bad signature"


def test_a_link_stops_working_after_its_expiry():
    _, q = parts(signer().link("000123", NOW))
    assert signer().check("000123", q["k"], q["e"], q["s"], NOW + 1801) == "expired"


def test_the_link_key_is_made_once_private_and_a_damaged_one_is_a_clear_error(tmp_path):
    path = tmp_path / "keys" / "link.key"
    key = load_or_make_key(path)
    assert len(key) == 32 and load_or_make_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("not hex\n")
    with pytest.raises(LinkKeyError, match="QR-link key unreadable.*QR codes already shown"):
        load_or_make_key(path)


def test_wifi_payload_escapes_the_special_characters():
    assert wifi_qr_payload("Liling;Library", 'p:a"ss\\', "WPA") == \
        'WIFI:T:WPA;S:Liling\\;Library;P:p\\:a\\"ss\\\\;;'
    assert wifi_qr_payload("Open", "", "nopass") == "WIFI:T:nopass;S:Open;;"
    with pytest.raises(ValueError, match="security must be one of"):
        wifi_qr_payload("x", "y", "WPA3")
