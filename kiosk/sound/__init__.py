"""Tones and spoken prompts (Mandarin and English) for the patron's steps.

Pure apart from `player.py`'s one outside call (a loader the app hands in: Kivy's SoundLoader)
and `make_prompts.py` (the build step, espeak-ng and oggenc). The files are made offline and
shipped in `files/`; nothing is downloaded or synthesised at run time.
"""
