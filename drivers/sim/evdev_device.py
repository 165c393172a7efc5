"""A simulated keyboard-wedge scanner: one input node that sends real `evdev.InputEvent`s.

It has the part of `evdev.InputDevice` the scanner driver uses (fd, path, name, info,
capabilities(), read(), active_keys(), grab(), ungrab(), close()), backed by a pipe so
select() works the same; active_keys() answers from every key event sent, read or not.
`type()` sends what a USB HID scanner makes the kernel send for a text: for each key, MSC_SCAN
with the HID usage, the key down, SYN_REPORT; then MSC_SCAN, key up, SYN_REPORT; Shift (or
AltGr) pressed around the keys that need it. The key strokes come from
`drivers.barcode.keymap`, the same tables the driver decodes with.

`overflow()` is the kernel's answer to a reader too slow for its buffer: the events it is
given change the keys held but are lost, and the driver reads SYN_DROPPED in their place.

`type()`, `tap()`, `send_events()`, `overflow()`, `unplug()` and `replug()` may be called
from any thread; the driver thread calls the rest. `history` records grab, ungrab, close,
unplug and replug.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections import deque
from typing import Iterable, Iterator

from evdev import InputEvent, ecodes
from evdev.device import DeviceInfo

from drivers.barcode import keymap

BUS_USB = 0x03
REPORT_S = 0.001  # a full-speed USB keyboard reports at most once a millisecond
END_KEYS = {"enter": ecodes.KEY_ENTER, "tab": ecodes.KEY_TAB}
CONSUMER_KEYS = (ecodes.KEY_MUTE, ecodes.KEY_VOLUMEDOWN, ecodes.KEY_VOLUMEUP)


def _hid_usages() -> dict[int, int]:
    """Key code -> USB HID keyboard usage (page 7), as the kernel reports in MSC_SCAN."""
    letters = "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z"
    runs = [
        (0x04, letters),
        (0x1E, "1 2 3 4 5 6 7 8 9 0 ENTER ESC BACKSPACE TAB SPACE MINUS EQUAL LEFTBRACE "
               "RIGHTBRACE BACKSLASH"),
        (0x33, "SEMICOLON APOSTROPHE GRAVE COMMA DOT SLASH CAPSLOCK F1 F2 F3 F4 F5 F6 F7 F8 F9 "
               "F10 F11 F12 SYSRQ SCROLLLOCK PAUSE INSERT HOME PAGEUP DELETE END PAGEDOWN RIGHT "
               "LEFT DOWN UP NUMLOCK KPSLASH KPASTERISK KPMINUS KPPLUS KPENTER KP1 KP2 KP3 KP4 "
               "KP5 KP6 KP7 KP8 KP9 KP0 KPDOT 102ND COMPOSE POWER KPEQUAL"),
        (0x85, "KPCOMMA"),
        (0xE0, "LEFTCTRL LEFTSHIFT LEFTALT LEFTMETA RIGHTCTRL RIGHTSHIFT RIGHTALT RIGHTMETA"),
    ]
    usages = {}
    for first, names in runs:
        for offset, name in enumerate(names.split()):
            usages[getattr(ecodes, f"KEY_{name}")] = 0x70000 | (first + offset)
    return usages


HID_USAGES = _hid_usages()
KEYBOARD_KEYS = sorted(HID_USAGES)


class SimInputDevice:
    def __init__(self, path: str = "/dev/input/event-sim", *, name: str = "Simulated scanner",
                 vendor: int = 0x0C2E, product: int = 0x0B61, keys: bool = True) -> None:
        self.path = path
        self.name = name
        self.info = DeviceInfo(BUS_USB, vendor, product, 0x0111)
        self.keys = keys  # False: a consumer-control node (volume keys), not a keyboard
        self.grabbed = False
        self.plugged = True
        self.history: list[str] = []
        self._events: deque[InputEvent] = deque()
        self._held: set[int] = set()  # keys down, as the kernel's key state has them
        self._lock = threading.Lock()
        self._clock = 0.0
        self._reader = self._writer = -1
        self._open()

    # --- what the driver uses (evdev.InputDevice's interface) -----------------------------

    @property
    def fd(self) -> int:
        return self._reader

    def fileno(self) -> int:
        return self._reader

    def capabilities(self, verbose: bool = False, absinfo: bool = True) -> dict[int, list[int]]:
        keys = KEYBOARD_KEYS if self.keys else list(CONSUMER_KEYS)
        return {ecodes.EV_SYN: [ecodes.SYN_REPORT, ecodes.EV_KEY, ecodes.EV_MSC],
                ecodes.EV_KEY: keys, ecodes.EV_MSC: [ecodes.MSC_SCAN]}

    def read(self) -> Iterator[InputEvent]:
        """Like evdev's: a generator, raising BlockingIOError (nothing yet) or ENODEV when
        iterated."""
        yield from self._take()

    def active_keys(self, verbose: bool = False) -> list[int]:
        """The keys held now (EVIOCGKEY), whatever the driver has read so far."""
        with self._lock:
            self._check_plugged()
            return sorted(self._held)

    def grab(self) -> None:
        with self._lock:
            self._check_plugged()
            if self._reader < 0:
                # A closed twin handed out again stands for the node opened afresh.
                self._open()
            if self.grabbed:
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
            self.grabbed = True
            self.history.append("grab")

    def ungrab(self) -> None:
        with self._lock:
            self._check_plugged()
            if not self.grabbed:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            self.grabbed = False
            self.history.append("ungrab")

    def close(self) -> None:
        with self._lock:
            if self._reader < 0:
                return
            for fd in (self._reader, self._writer):
                os.close(fd)
            self._reader = self._writer = -1
            self.grabbed = False
            self._events.clear()
            self.history.append("close")

    # --- what tests and the demo do -------------------------------------------------------

    def type(self, text: str, *, end: str | None = "enter", layout: str = "us",
             keypad_digits: bool = False) -> None:
        """Send `text` as the scanner would, then Enter, Tab or (None) nothing."""
        self.send_events(self.key_events(text, end=end, layout=layout,
                                         keypad_digits=keypad_digits))

    def key_events(self, text: str, *, end: str | None = "enter", layout: str = "us",
                   keypad_digits: bool = False) -> list[InputEvent]:
        """The events `type()` sends, stamped from now on, without sending them."""
        strokes = keymap.strokes(text, layout, keypad_digits=keypad_digits)
        if end is not None:
            strokes.append(keymap.Stroke(END_KEYS[end]))
        return self._stroke_events(strokes)

    def tap(self, code: int, *held: int) -> None:
        """One key, whatever it is (garbage, NumLock, an F key), pressed and released while
        the `held` keys (Ctrl, Alt...) are down."""
        events: list[InputEvent] = []
        self._start_burst()
        self._report(events, [(key, 1) for key in (*held, code)])
        self._report(events, [(key, 0) for key in (code, *reversed(held))])
        self.send_events(events)

    def send_events(self, events: Iterable[InputEvent]) -> None:
        """Queue events for the driver to read, as the kernel would (dropped if unplugged)."""
        with self._lock:
            if not self.plugged or self._reader < 0:
                return
            events = list(events)
            self._hold(events)
            self._events.extend(events)
            self._wake()

    def overflow(self, lost: list[InputEvent], then: Iterable[InputEvent] = ()) -> None:
        """The driver read too slowly and the kernel's buffer overflowed while `lost` came in:
        they change the keys held, but the driver reads SYN_DROPPED in their place, then the
        newest of them (the kernel keeps it: usually the SYN_REPORT ending a report), then
        `then`."""
        if not lost:
            raise ValueError("an overflow loses at least one event")
        with self._lock:
            if not self.plugged or self._reader < 0:
                return
            then = list(then)
            self._hold(lost + then)
            at = lost[-1].timestamp()
            sec, usec = int(at), int(at % 1 * 1_000_000)
            self._events.append(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_DROPPED, 0))
            self._events.extend([lost[-1], *then])
            self._wake()

    def unplug(self) -> None:
        """The USB cable is pulled: the next read raises ENODEV."""
        with self._lock:
            self.plugged = False
            self.history.append("unplug")
            if self._writer >= 0:
                self._wake()  # select() wakes up, as it does for a real node

    def replug(self) -> None:
        with self._lock:
            self.plugged = True
            self.history.append("replug")

    # --- the events ---------------------------------------------------------------------

    def _stroke_events(self, strokes: list[keymap.Stroke]) -> list[InputEvent]:
        events: list[InputEvent] = []
        self._start_burst()
        for stroke in strokes:
            modifiers = ([ecodes.KEY_LEFTSHIFT] if stroke.shift else []) + \
                        ([ecodes.KEY_RIGHTALT] if stroke.altgr else [])
            self._report(events, [(code, 1) for code in (*modifiers, stroke.code)])
            self._report(events, [(code, 0) for code in (stroke.code, *reversed(modifiers))])
        return events

    def _hold(self, events: list[InputEvent]) -> None:
        for event in events:
            if event.type == ecodes.EV_KEY and event.value == keymap.KEY_DOWN:
                self._held.add(event.code)
            elif event.type == ecodes.EV_KEY and event.value == keymap.KEY_UP:
                self._held.discard(event.code)

    def _start_burst(self) -> None:
        """A burst of reports (a scan, a tap) starts now: its reports follow REPORT_S apart
        whenever this thread gets to stamp them, as a scanner's do (a test thread held up
        on a busy machine must not stamp a pause into one scan)."""
        self._clock = max(self._clock, time.time() - REPORT_S)

    def _report(self, events: list[InputEvent], keys: list[tuple[int, int]]) -> None:
        """One HID report: MSC_SCAN and the key for each change, then SYN_REPORT."""
        self._clock += REPORT_S
        sec, usec = int(self._clock), int(self._clock % 1 * 1_000_000)
        for code, value in keys:
            if code in HID_USAGES:
                events.append(InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN,
                                         HID_USAGES[code]))
            events.append(InputEvent(sec, usec, ecodes.EV_KEY, code, value))
        events.append(InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))

    def _take(self) -> list[InputEvent]:
        with self._lock:
            self._check_plugged()
            if self._reader < 0:
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            try:
                while os.read(self._reader, 4096):
                    pass
            except BlockingIOError:
                pass
            if not self._events:
                raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
            events = list(self._events)
            self._events.clear()
            return events

    def _check_plugged(self) -> None:
        if not self.plugged:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))

    def _open(self) -> None:
        self._reader, self._writer = os.pipe()
        os.set_blocking(self._reader, False)
        os.set_blocking(self._writer, False)
        self._events.clear()
        self._held.clear()

    def _wake(self) -> None:
        try:
            os.write(self._writer, b"!")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    def __repr__(self) -> str:
        return f"SimInputDevice({self.path!r}, {self.name!r})"
