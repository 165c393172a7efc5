"""The three tones: success (two notes rising), refusal (two notes falling, lower) and attention
(two short equal pips). Made from sine waves with Python's `wave` module, the same bytes every
time; the build step writes them next to the prompts and a test checks the shipped files are
what this makes. Pure.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from enum import StrEnum

RATE = 16_000  # Hz, mono, 16-bit: the prompts' format too
LEVEL = 0.45  # of full scale: loud enough over a lobby, with room for the volume setting
FADE_S = 0.008  # each note fades in and out, so that it starts and ends without a click


class Tone(StrEnum):
    SUCCESS = "success"
    REFUSAL = "refusal"
    ATTENTION = "attention"


# Each tone as notes: (frequency in Hz, or 0 for silence; seconds).
NOTES: dict[Tone, tuple[tuple[float, float], ...]] = {
    Tone.SUCCESS: ((880.0, 0.09), (1318.5, 0.14)),
    Tone.REFUSAL: ((392.0, 0.16), (0.0, 0.04), (293.7, 0.24)),
    Tone.ATTENTION: ((784.0, 0.08), (0.0, 0.07), (784.0, 0.08)),
}


def samples(notes: tuple[tuple[float, float], ...]) -> list[int]:
    out: list[int] = []
    fade = int(RATE * FADE_S)
    for frequency, seconds in notes:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - 1 - i) / fade)
            value = LEVEL * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            out.append(round(value * 32767))
    return out


def wav_bytes(tone: Tone) -> bytes:
    """The tone as a WAV file's bytes (16 kHz mono 16-bit PCM)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        data = samples(NOTES[tone])
        wav.writeframes(struct.pack(f"<{len(data)}h", *data))
    return buffer.getvalue()


def seconds(tone: Tone) -> float:
    return sum(length for _, length in NOTES[tone])
