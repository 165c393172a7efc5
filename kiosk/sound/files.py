"""Where the shipped sound files are, and the manifest that ties each prompt file to its text.

`files/<language>/<prompt id>.ogg` (Ogg Vorbis, 16 kHz mono), `files/tones/<tone>.wav`, and
`files/manifest.json`: for each file the SHA-256 of what it was made from (voice, speed and
text; a tone's samples) and of the file itself, so a test fails when a prompt's text changed
and its file was not made again (`python -m kiosk.sound.make_prompts`). Pure.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from kiosk.sound.prompts import LANGUAGES, all_prompts, spoken
from kiosk.sound.tones import Tone, wav_bytes

FILES = Path(__file__).resolve().parent / "files"
MANIFEST = FILES / "manifest.json"
# espeak-ng's voices and speed (words a minute): part of what a file is made from. Mandarin is
# `cmn-latn-pinyin`: espeak-ng 1.51's `cmn` turns each character it does not know into pinyin
# and then reads that as English ("jie four shu one"); this one reads it as pinyin.
VOICES = {"zh_CN": ("cmn-latn-pinyin", 160), "en": ("en", 150)}


def prompt_name(prompt_id: str, language: str) -> str:
    return f"{language}/{prompt_id}.ogg"


def tone_name(tone: Tone) -> str:
    return f"tones/{tone.value}.wav"


def prompt_path(prompt_id: str, language: str, root: Path = FILES) -> Path:
    return root / prompt_name(prompt_id, language)


def tone_path(tone: Tone, root: Path = FILES) -> Path:
    return root / tone_name(tone)


def source_hash(prompt_id: str, language: str) -> str:
    """What a prompt file is made from, hashed: a new text, voice or speed changes it."""
    voice, speed = VOICES[language]
    text = spoken(all_prompts()[prompt_id].text(language), language)
    return hashlib.sha256(f"espeak-ng {voice} {speed}\n{text}".encode()).hexdigest()


def tone_hash(tone: Tone) -> str:
    return hashlib.sha256(wav_bytes(tone)).hexdigest()


def expected() -> dict[str, str]:
    """Every file that should ship -> the hash of what it is made from."""
    found = {prompt_name(pid, lang): source_hash(pid, lang)
             for pid in all_prompts() for lang in LANGUAGES}
    found.update({tone_name(tone): tone_hash(tone) for tone in Tone})
    return found


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def problems(root: Path = FILES) -> list[str]:
    """What does not match: a file missing, made from other words, changed since, or left
    over. Empty when the shipped files are those of today's table."""
    try:
        files = load_manifest(root / "manifest.json")["files"]
    except (OSError, ValueError, KeyError) as e:
        return [f"manifest.json: cannot be read ({e})"]
    found: list[str] = []
    for name, made_from in expected().items():
        entry = files.get(name)
        path = root / name
        if entry is None or not path.is_file():
            found.append(f"{name}: missing")
        elif entry["source_sha256"] != made_from:
            found.append(f"{name}: made from other words or settings than today's table")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            found.append(f"{name}: changed since it was made")
    found += [f"{name}: no prompt or tone has it" for name in sorted(set(files) - set(expected()))]
    return found
