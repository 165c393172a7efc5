"""The text of a Wi-Fi QR code (`WIFI:T:WPA;S:ssid;P:password;;`), which phone cameras offer
to join. Backslash, semicolon, comma, colon and double quote are escaped with a backslash."""

from __future__ import annotations

SECURITIES = ("WPA", "WEP", "nopass")


def _escape(text: str) -> str:
    return "".join("\\" + c if c in '\\;,:"' else c for c in text)


def wifi_qr_payload(ssid: str, password: str, security: str = "WPA") -> str:
    if security not in SECURITIES:
        raise ValueError(f"security must be one of {', '.join(SECURITIES)} (got {security!r})")
    if not ssid:
        raise ValueError("the Wi-Fi network needs a name (SSID)")
    if security == "nopass":
        return f"WIFI:T:nopass;S:{_escape(ssid)};;"
    return f"WIFI:T:{security};S:{_escape(ssid)};P:{_escape(password)};;"
