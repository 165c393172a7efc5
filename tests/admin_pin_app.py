"""The real kiosk app in its own process (one window size per process), driven by touches on
the staff PIN pad: wrong PINs until the lockout, which counts down (Chinese, then English) with
the keypad off, then frees it. Asserts what the screen shows, saves screenshots, exits 0 when
all held (tests/test_admin_pin_screen.py starts it).

    python tests/admin_pin_app.py WIDTHxHEIGHT SHOTS
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

PIN = "258013"


def start(size: str, data: Path):
    from tests.staff_pin import staff_hash

    return sized_app.start(size, data, '[idle]\ntimeout_s = 3600\n'
                           f'[admin]\npin_hash = "{staff_hash(PIN)}"\nmax_attempts = 2\n'
                           'lockout_s = 300\n')


def main(size: str, shots: str) -> int:
    app, runtime = start(size, Path(tempfile.mkdtemp(prefix="kiosk-pin-ui-")))
    from kiosk.core import events as ev  # Kivy's window only now, at the configured size
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    k.frames(5)
    runtime.send(ev.AdminGesture())
    k.until(lambda: k.screen == "admin_pin")
    screen = k.current()
    keypad = k.widget("admin_pin", "keypad")
    keys = {w.text: w for w in keypad.children}
    message = k.widget("admin_pin", "message")

    def type_pin(pin: str) -> None:
        for digit in pin:
            k.tap(keys[digit])
        k.tap(keys["确定"])

    for digit in "1111":
        k.tap(keys[digit])
    screen.press("ok")  # what OK's release does; no frame yet, so the check cannot have answered
    assert keypad.disabled and message.text == "正在核对密码…", message.text
    k.until(lambda: message.text == "密码错误，请重试。")
    assert not keypad.disabled
    type_pin("2222")
    k.until(lambda: screen.view.pin_message == "locked")
    k.frames(3)
    assert message.text == ("密码错误次数过多，键盘已锁定，5 分 0 秒后可再试。\n"
                            "Too many wrong PINs. The keypad is locked for 5 min "
                            "0 s."), message.text
    assert keypad.disabled
    k.tap(keys["1"])
    assert k.widget("admin_pin", "dots").text == ""  # a locked keypad takes no digit
    k.screenshot(f"admin-pin-locked-{size}")
    k.advance(61.5)
    k.until(lambda: "3 分 5" in message.text)  # counting down: 3 min 5x s
    left = screen.view.pin_wait_s
    assert f"{left // 60} 分 {left % 60} 秒" in message.text, message.text
    k.advance(200)
    k.until(lambda: "后可再试" in message.text and "分" not in message.text)
    left = screen.view.pin_wait_s
    assert 30 <= left < 60 and message.text.endswith(f"locked for {left} s."), message.text
    k.screenshot(f"admin-pin-locked-seconds-{size}")
    k.advance(left + 1)
    k.until(lambda: message.text == "请输入工作人员密码")
    assert not keypad.disabled
    type_pin(PIN)
    k.until(lambda: k.screen == "admin")
    app.stop()
    print("lockout shown, counted down and lifted")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
