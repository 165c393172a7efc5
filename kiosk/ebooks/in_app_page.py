"""Chat apps' own browsers, which show a download link's page but cannot save its file, and the
page that sends the patron on to a real browser: Chinese first, English below, sized for a
phone, with nothing fetched from anywhere and nothing about the patron.

Known by the app's mark in the User-Agent (the apps' web-developer documentation and every
"open in browser" overlay check these): WeChat's (also WeCom's) `MicroMessenger/`, mobile QQ's
`QQ/` (QQ Browser, a real browser that downloads, says `MQQBrowser/` and no `QQ/`).
Pure functions: the download server's request threads call them.
"""

from __future__ import annotations

import re
import time
from html import escape

# app -> (its mark in the User-Agent, its name in Chinese, in English)
APPS: dict[str, tuple[re.Pattern[str], str, str]] = {
    "wechat": (re.compile(r"MicroMessenger/", re.IGNORECASE), "微信", "WeChat"),
    "qq": (re.compile(r"(?<![A-Za-z])QQ/"), "QQ", "QQ"),
}


def in_app_browser(user_agent: str | None) -> str | None:
    """The app (a key of APPS) whose own browser sent `user_agent`, or None for a browser."""
    for app, (mark, _zh, _en) in APPS.items():
        if user_agent and mark.search(user_agent):
            return app
    return None


def in_app_page(title: str, expiry: int, now: float, app: str) -> bytes:
    """The page for the link to `title` that works until `expiry` (Unix seconds, shown in the
    kiosk's local time: the phone is at the kiosk), opened in `app`'s browser at `now`."""
    _mark, app_zh, app_en = APPS[app]
    until = time.strftime("%H:%M", time.localtime(expiry))
    minutes = int(expiry - now) // 60
    left_zh = f"约 {minutes} 分钟" if minutes >= 1 else "不到 1 分钟"
    left_en = (f"about {minutes} minute{'s' if minutes != 1 else ''}" if minutes >= 1
               else "less than a minute")
    t, zh, en = escape(title), escape(app_zh), escape(app_en)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>请在浏览器中打开 / Open in a browser</title>"
        "<style>"
        "body{font-family:sans-serif;margin:0;padding:4.5em 1.2em 2em;font-size:1.1em;"
        "line-height:1.55;color:#111;background:#fff;overflow-wrap:anywhere}"
        ".arrow{position:fixed;top:.2em;right:.6em;font-size:2.6em;line-height:1;"
        "color:#16a34a}"
        "h1{font-size:1.45em;margin:0 0 .2em}p{margin:.4em 0}"
        ".book{font-size:1.15em;font-weight:bold;margin:.4em 0}"
        "ol{padding-left:1.4em;margin:.6em 0}li{margin:.3em 0}"
        "b.menu{display:inline-block;border:1px solid #999;border-radius:.3em;"
        "padding:0 .35em;background:#f3f3f3}"
        ".valid{color:#333}"
        "section.en{margin-top:1.6em;padding-top:1em;border-top:1px solid #ddd;color:#555;"
        "font-size:.95em}section.en h1{font-size:1.15em}"
        "</style></head><body>"
        '<div class="arrow" aria-hidden="true">&#8599;</div>'
        "<h1>请在浏览器中打开</h1>"
        f"<p>{zh}内无法下载电子书。</p>"
        f'<p class="book">《{t}》</p>'
        "<ol>"
        '<li>点右上角的 <b class="menu">…</b></li>'
        "<li>选择「在浏览器中打开」（iPhone：「在 Safari 中打开」）</li>"
        "<li>在浏览器里，下载会自动开始</li>"
        "</ol>"
        f'<p class="valid">此链接 {until} 前有效（{left_zh}）。过期请回到自助机重新扫码。</p>'
        '<section class="en" lang="en">'
        "<h1>Open this link in a browser</h1>"
        f"<p>{en} cannot download e-books.</p>"
        f'<p class="book">{t}</p>'
        '<ol><li>Tap <b class="menu">…</b> at the top right</li>'
        "<li>Choose \u201cOpen in Browser\u201d (iPhone: \u201cOpen in Safari\u201d)</li>"
        "<li>The download then starts in the browser</li></ol>"
        f'<p class="valid">This link works until {until} ({left_en}). After that, scan the '
        "code at the kiosk again.</p>"
        "</section></body></html>"
    ).encode("utf-8")
