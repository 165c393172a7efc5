"""What a pause in a scanner's input means: the one source of the scanners' timeouts.

A scanner either ends each scan with a terminator (Enter or Tab under evdev, CR or LF on a
serial line) or sends the bare code, which then ends when the keys go quiet (`silence_s`).
Wireless scanners and USB hubs pause for 100 ms and more inside a scan, so once a scanner has
been seen to end a scan with a terminator, a pause no longer ends its scans: a scan left
unfinished for `UNFINISHED_SCAN_S` is dropped as a fault instead, never emitted. A scanner
that leaves `DROPS_BEFORE_SILENCE` scans in a row unfinished was reprogrammed to send no
terminator: its scans end on silence again.

Noise (a line already dropped as too long, bytes that are never part of a code) is over once
the line has been quiet for `NOISE_GAP_S`: what comes after it starts afresh.

Pure and clock-free; a `ScanPauses` belongs to the one driver thread that feeds it.
"""

from __future__ import annotations

from typing import Literal

UNFINISHED_SCAN_S = 2.0  # a scanner that sends terminators never pauses this long inside a scan
NOISE_GAP_S = 0.2  # longer than any pause inside a burst of noise (USB-serial: 16 ms chunks)
DROPS_BEFORE_SILENCE = 2

Verdict = Literal["end", "drop"]


class ScanPauses:
    def __init__(self, silence_s: float | None) -> None:
        """`silence_s`: the pause that ends a scan without a terminator; None when every scan
        must end with one (a serial scanner configured without `silence_ms`)."""
        self.silence_s = silence_s
        self.terminated = silence_s is None  # scans end with a terminator, not on silence
        self._drops = 0  # unfinished scans dropped in a row

    @property
    def limit_s(self) -> float:
        """The pause after which an unfinished scan is over (ended or dropped)."""
        if self.terminated or self.silence_s is None:
            return max(UNFINISHED_SCAN_S, self.silence_s or 0.0)
        return self.silence_s

    def after(self, waited: float) -> Verdict | None:
        """What a pause of `waited` seconds does to an unfinished scan: "end" it (a scanner
        that sends no terminator), "drop" it, or nothing yet."""
        if waited < self.limit_s:
            return None
        if not self.terminated:
            return "end"
        self._drops += 1
        if self.silence_s is not None and self._drops >= DROPS_BEFORE_SILENCE:
            self.terminated = False  # reprogrammed without a suffix: silence ends scans again
            self._drops = 0
        return "drop"

    def terminator_seen(self) -> None:
        """A scan ended with Enter, Tab, CR or LF."""
        self.terminated = True
        self._drops = 0
