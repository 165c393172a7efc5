"""The build step: renders every prompt with espeak-ng (Mandarin voice `cmn`, English `en`),
encodes it as Ogg Vorbis at 16 kHz mono with oggenc, writes the tones, and the manifest.

    python -m kiosk.sound.make_prompts          # make what changed (all with --all)
    python -m kiosk.sound.make_prompts --check  # exit 1 when a file does not match the table

The files are committed, so building a wheel or an SD image needs neither tool; a developer
who changes a prompt's words runs this (setup.sh installs espeak-ng and vorbis-tools for the
development and test path). Only files whose source changed are made again: oggenc with a fixed
serial number makes the same bytes from the same speech, but another espeak-ng version may not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from kiosk.sound.files import (
    FILES,
    VOICES,
    expected,
    problems,
    prompt_name,
    source_hash,
    tone_hash,
    tone_name,
)
from kiosk.sound.prompts import LANGUAGES, all_prompts, spoken
from kiosk.sound.tones import RATE, Tone, wav_bytes

QUALITY = "0"  # oggenc -q: about 25 kbit/s for 16 kHz mono speech
KEEP_TAIL_S = 0.06  # espeak-ng ends with 0.3-0.4 s of silence: a prompt ends when it is said
SILENT = 300  # of 32767: below this a sample is silence


def render(text: str, language: str, target: Path) -> None:
    voice, speed = VOICES[language]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw),
                        spoken(text, language)],
                       check=True)
        trim_tail(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["oggenc", "--quiet", "-q", QUALITY, "--resample", str(RATE),
                        "--serial", "1", "-o", str(target), str(raw)], check=True)


def trim_tail(path: Path) -> None:
    """Cut the speech's trailing silence down to KEEP_TAIL_S (16-bit mono, as espeak-ng writes)."""
    with wave.open(str(path)) as wav:
        params = wav.getparams()
        data = wav.readframes(params.nframes)
    values = memoryview(data).cast("h")
    last = max((i for i in range(len(values)) if abs(values[i]) > SILENT), default=0)
    end = min(len(values), last + int(params.framerate * KEEP_TAIL_S))
    with wave.open(str(path), "wb") as wav:
        wav.setparams(params)
        wav.writeframes(data[:end * 2])


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def ogg_seconds(path: Path) -> float:
    """The last page's granule position (samples at 16 kHz) gives the length."""
    data = path.read_bytes()
    last = data.rfind(b"OggS")
    return int.from_bytes(data[last + 6:last + 14], "little") / RATE


def make(root: Path = FILES, *, everything: bool = False) -> list[str]:
    manifest_path = root / "manifest.json"
    try:
        old = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        old = {}
    files: dict[str, dict[str, object]] = {}
    made: list[str] = []
    prompts = all_prompts()
    for prompt_id, prompt in prompts.items():
        for language in LANGUAGES:
            name = prompt_name(prompt_id, language)
            path = root / name
            made_from = source_hash(prompt_id, language)
            entry = old.get(name)
            if everything or not path.is_file() or entry is None or \
                    entry.get("source_sha256") != made_from:
                render(prompt.text(language), language, path)
                made.append(name)
            files[name] = {"text": prompt.text(language), "source_sha256": made_from,
                           "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                           "bytes": path.stat().st_size, "seconds": round(ogg_seconds(path), 2)}
    for tone in Tone:
        name = tone_name(tone)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = wav_bytes(tone)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            made.append(name)
        files[name] = {"source_sha256": tone_hash(tone),
                       "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                       "seconds": round(wav_seconds(path), 2)}
    for name in sorted(set(old) - set(expected())):  # a prompt taken out of the table
        (root / name).unlink(missing_ok=True)
    manifest = {"engine": _engine(), "encoder": f"oggenc -q {QUALITY}, {RATE} Hz mono",
                "files": dict(sorted(files.items()))}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return made


def _engine() -> str:
    done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split()[:4])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the shipped files")
    parser.add_argument("--all", action="store_true", help="make every file again")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        print("\n".join(found) if found else "every prompt and tone file matches the table")
        return 1 if found else 0
    made = make(everything=args.all)
    print(f"made {len(made)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
