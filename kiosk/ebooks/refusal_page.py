"""The short page a phone shows when a download link is refused: Chinese first, then English,
readable in WeChat's browser and the camera's."""

from __future__ import annotations

from html import escape

MESSAGES = {
    "expired": ("链接已过期，请回到自助机重新扫码。",
                "This link has expired: scan the code at the kiosk again."),
    "bad signature": ("链接无效，请回到自助机重新扫码。",
                      "This link is not valid: scan the code at the kiosk again."),
    "other kiosk": ("此链接来自另一台自助机，请在本馆自助机上扫码。",
                    "This link comes from another kiosk: scan the code at this library's kiosk."),
    "malformed": ("链接不完整，请回到自助机重新扫码。",
                  "This link is incomplete: scan the code at the kiosk again."),
    "not found": ("这本电子书已不可下载，请在自助机上选择其他图书。",
                  "This e-book can no longer be downloaded: choose another at the kiosk."),
    "bad request": ("无法处理此请求。", "This request cannot be handled."),
}


def refusal_page(reason: str) -> bytes:
    zh, en = MESSAGES.get(reason, MESSAGES["bad request"])
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>电子书下载 / E-book download</title>"
        "<style>body{font-family:sans-serif;margin:2em 1.2em;font-size:1.15em;line-height:1.5}"
        "p.en{color:#555}</style></head><body>"
        f"<p>{escape(zh)}</p><p class=\"en\" lang=\"en\">{escape(en)}</p></body></html>"
    ).encode("utf-8")
