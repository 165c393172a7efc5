"""One input node's events in, finished scans out: key decoding, pauses and SYN_DROPPED.

`KeyDecoder` turns keys into text; this adds what the event stream itself says:

- When a scan ends. Enter or Tab ends it; a pause ends it, or drops it, as `ScanPauses`
  rules. Pauses are measured on the kernel's timestamps when several keys come in one read,
  and on the caller's clock (`expire()`) when nothing comes.
- SYN_DROPPED: the kernel's buffer for this reader overflowed and events were lost, perhaps a
  key release (a Shift left "held" would garble every later scan). As the kernel documents
  (Documentation/input/event-codes.rst), events up to and including the next SYN_REPORT are
  discarded and the keys held are read again from the device (`key_state`, the node's
  `active_keys()`). The scan the loss fell into is dropped as a fault: the part typed before
  it at once, the rest (up to its Enter or Tab, or a pause of `silence_s`) without a second
  fault, so a fragment of a code is never taken for a code.

Finished scans come out as `Typed`; a dropped one has `problems`, which the driver counts as
a fault. Pure apart from `key_state`; a `KeyStream` belongs to the thread that feeds it.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from evdev import InputEvent, ecodes

from drivers.barcode.keymap import KEY_DOWN, KeyDecoder, Typed, key_name
from drivers.barcode.pauses import UNFINISHED_SCAN_S, ScanPauses

log = logging.getLogger(__name__)
LOST_EVENTS = "the kernel dropped input events (SYN_DROPPED); keys held read again"


def unfinished(limit_s: float = UNFINISHED_SCAN_S) -> str:
    """Why a scan left without its Enter or Tab for `limit_s` was dropped."""
    return f"no Enter or Tab within {limit_s:g} s, from a scanner that sends them"


class KeyStream:
    def __init__(self, layout: str, silence_s: float,
                 key_state: Callable[[], Iterable[int]]) -> None:
        self.decoder = KeyDecoder(layout)
        self.pauses = ScanPauses(silence_s)
        self.silence_s = silence_s
        self.key_state = key_state
        self.last_key = 0.0  # the caller's clock at the last key press read
        self._last_stamp = 0.0  # the kernel's timestamp of that key press (or of a loss)
        self._discarding = False  # after SYN_DROPPED, until the next SYN_REPORT
        self._broken = False  # the scan in progress lost events: its rest is dropped too

    @property
    def pending(self) -> bool:
        return self.decoder.pending or self._broken

    def deadline(self) -> float | None:
        """When (on the caller's clock) `expire()` has something to do; None: never."""
        if not self.pending:
            return None
        return self.last_key + (self.silence_s if self._broken else self.pauses.limit_s)

    def feed(self, events: Iterable[InputEvent], now: float) -> list[Typed]:
        """The scans that `events`, read at `now`, finish or drop."""
        out: list[Typed] = []
        for event in events:
            if event.type == ecodes.EV_SYN:
                self._sync(event, now, out)
                continue
            if self._discarding or event.type != ecodes.EV_KEY:
                continue
            if event.value == KEY_DOWN:
                stamp = event.timestamp()
                out += self._paused(stamp - self._last_stamp)  # a pause inside one read
                self.last_key, self._last_stamp = now, stamp
            typed = self.decoder.feed(event)
            if typed is not None:
                out += self._terminated(typed)
        return out

    def expire(self, now: float) -> list[Typed]:
        """The scan that a pause since the last key press (until `now`) ends or drops."""
        return self._paused(now - self.last_key)

    # --- what ends a scan ---------------------------------------------------------------------

    def _paused(self, waited: float) -> list[Typed]:
        if self._broken:
            if waited >= self.silence_s:  # what comes next is a new scan
                self._end_broken("a pause")
            return []
        if not self.decoder.pending:
            return []
        limit = self.pauses.limit_s
        verdict = self.pauses.after(waited)
        if verdict is None:
            return []
        typed = self.decoder.finish()
        if typed is None:
            return []
        if verdict == "drop":
            return [Typed(typed.text, "unfinished", (unfinished(limit), *typed.problems),
                          typed.keys)]
        return [typed]

    def _terminated(self, typed: Typed) -> list[Typed]:
        self.pauses.terminator_seen()
        if self._broken:
            self._broken = False
            log.debug("the rest of a scan that lost events (%d keys, ended by %s) dropped",
                      typed.keys, typed.end)
            return []
        return [typed]

    def _end_broken(self, why: str) -> None:
        rest = self.decoder.finish()
        self._broken = False
        if rest is not None:
            log.debug("the rest of a scan that lost events (%d keys, ended by %s) dropped",
                      rest.keys, why)

    # --- SYN_DROPPED --------------------------------------------------------------------------

    def _sync(self, event: InputEvent, now: float, out: list[Typed]) -> None:
        if event.code == ecodes.SYN_DROPPED:
            if not self._discarding:
                partial = self.decoder.finish()
                text, keys = (partial.text, partial.keys) if partial else ("", 0)
                out.append(Typed(text, "lost", (LOST_EVENTS,), keys))
            self._discarding = self._broken = True
            self.last_key, self._last_stamp = now, event.timestamp()  # pauses count from here
        elif event.code == ecodes.SYN_REPORT and self._discarding:
            self._discarding = False
            held = set(self.key_state())
            log.info("input events were lost; keys held now: %s",
                     ", ".join(sorted(key_name(code) for code in held)) or "none")
            self.decoder.resync(held)
