"""Key codes to characters for keyboard-wedge scanners, and characters back to key strokes.

A scanner under evdev sends key codes, not characters; which character a code means depends on
the keyboard layout the scanner was programmed for (`us`, `de`, `fr`), never on the machine's
own keymap. The tables here are the one source of truth: `KeyDecoder` reads them one way and
`strokes()` (used by the simulated scanner) the other.

Pure code with no threads; a `KeyDecoder` belongs to whichever thread feeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from evdev import InputEvent, ecodes

PLAIN, SHIFT, ALTGR = 0, 1, 2  # levels of a key; the tables hold a character for each
LEVEL_NAMES = ("", "Shift+", "AltGr+")
LAYOUTS = ("us", "de", "fr")
END_KEYS = {ecodes.KEY_ENTER: "enter", ecodes.KEY_KPENTER: "enter", ecodes.KEY_TAB: "tab"}
SHIFT_KEYS = (ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT)
CTRL_KEYS = (ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL)
ALT_KEYS = (ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT)
META_KEYS = (ecodes.KEY_LEFTMETA, ecodes.KEY_RIGHTMETA)
QUIET_KEYS = frozenset((*SHIFT_KEYS, *CTRL_KEYS, *ALT_KEYS, *META_KEYS, ecodes.KEY_CAPSLOCK,
                        ecodes.KEY_NUMLOCK, ecodes.KEY_SCROLLLOCK))  # state, never characters
KEY_UP, KEY_DOWN = 0, 1  # event values; 2 is autorepeat


@dataclass(frozen=True)
class Layout:
    name: str
    keys: dict[int, tuple[str, str, str]]  # code -> (plain, shifted, AltGr); "" for none
    dead: frozenset[tuple[int, int]] = frozenset()  # (code, level) that wait for the next key
    has_altgr: bool = False  # whether right Alt is AltGr (it is plain Alt on a US keyboard)
    keypad_decimal: str = "."


def _rows(*rows: tuple[str, str, str]) -> dict[int, list[str]]:
    """Rows of key names with their plain and shifted characters, one character per key."""
    keys: dict[int, list[str]] = {}
    for names, plain, shifted in rows:
        codes = [getattr(ecodes, f"KEY_{name}") for name in names.split()]
        assert len(codes) == len(plain) == len(shifted), names
        for code, low, high in zip(codes, plain, shifted):
            keys[code] = [low, high, ""]
    keys[ecodes.KEY_SPACE] = [" ", " ", ""]
    return keys


def _layout(name: str, rows: dict[int, list[str]], *, altgr: dict[str, str] | None = None,
            no_shift: tuple[str, ...] = (), dead: Iterable[tuple[str, int]] = (),
            keypad_decimal: str = ".") -> Layout:
    for key, char in (altgr or {}).items():
        rows[getattr(ecodes, f"KEY_{key}")][ALTGR] = char
    for key in no_shift:
        rows[getattr(ecodes, f"KEY_{key}")][SHIFT] = ""
    return Layout(name, {code: (plain, shifted, altgr)
                         for code, (plain, shifted, altgr) in rows.items()},
                  frozenset((getattr(ecodes, f"KEY_{key}"), level) for key, level in dead),
                  has_altgr=altgr is not None, keypad_decimal=keypad_decimal)


_US = _layout("us", _rows(
    ("GRAVE 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL", "`1234567890-=", "~!@#$%^&*()_+"),
    ("Q W E R T Y U I O P LEFTBRACE RIGHTBRACE BACKSLASH", "qwertyuiop[]\\", "QWERTYUIOP{}|"),
    ("A S D F G H J K L SEMICOLON APOSTROPHE", "asdfghjkl;'", 'ASDFGHJKL:"'),
    ("Z X C V B N M COMMA DOT SLASH", "zxcvbnm,./", "ZXCVBNM<>?"),
))

# German (QWERTZ): Y and Z swapped; symbols on the digit row differ; @ { [ ] } \ ~ | need AltGr.
# ^ and the accents ´ ` are dead keys: a scanner sends them followed by a space.
_DE = _layout("de", _rows(
    ("GRAVE 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL", "^1234567890ß´", '°!"§$%&/()=?`'),
    ("Q W E R T Y U I O P LEFTBRACE RIGHTBRACE", "qwertzuiopü+", "QWERTZUIOPÜ*"),
    ("A S D F G H J K L SEMICOLON APOSTROPHE BACKSLASH", "asdfghjklöä#", "ASDFGHJKLÖÄ'"),
    ("102ND Z X C V B N M COMMA DOT SLASH", "<yxcvbnm,.-", ">YXCVBNM;:_"),
), altgr={"Q": "@", "E": "€", "2": "²", "3": "³", "7": "{", "8": "[", "9": "]", "0": "}",
          "MINUS": "\\", "RIGHTBRACE": "~", "102ND": "|", "M": "µ"},
    dead=(("GRAVE", PLAIN), ("EQUAL", PLAIN), ("EQUAL", SHIFT)), keypad_decimal=",")

# French (AZERTY): A/Q and Z/W swapped, M beside L; digits need Shift; # { [ | \ ^ @ ] } need
# AltGr. ^ and ¨ (and AltGr's ~ and `) are dead keys.
_FR = _layout("fr", _rows(
    ("GRAVE 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL", "²&é\"'(-è_çà)=", " 1234567890°+"),
    ("Q W E R T Y U I O P LEFTBRACE RIGHTBRACE", "azertyuiop^$", "AZERTYUIOP¨£"),
    ("A S D F G H J K L SEMICOLON APOSTROPHE BACKSLASH", "qsdfghjklmù*", "QSDFGHJKLM%µ"),
    ("102ND Z X C V B N M COMMA DOT SLASH", "<wxcvbn,;:!", ">WXCVBN?./§"),
), altgr={"2": "~", "3": "#", "4": "{", "5": "[", "6": "|", "7": "`", "8": "\\", "9": "^",
          "0": "@", "MINUS": "]", "EQUAL": "}", "RIGHTBRACE": "¤", "E": "€"},
    no_shift=("GRAVE",),
    dead=(("LEFTBRACE", PLAIN), ("LEFTBRACE", SHIFT), ("2", ALTGR), ("7", ALTGR)))

TABLES = {layout.name: layout for layout in (_US, _DE, _FR)}

# The keypad is the same everywhere, except for the decimal key (a comma on German keyboards).
KEYPAD_DIGITS = {getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)}  # need NumLock
KEYPAD_DECIMAL = ecodes.KEY_KPDOT  # needs NumLock, too
KEYPAD_SIGNS = {ecodes.KEY_KPSLASH: "/", ecodes.KEY_KPASTERISK: "*", ecodes.KEY_KPMINUS: "-",
                ecodes.KEY_KPPLUS: "+", ecodes.KEY_KPEQUAL: "=", ecodes.KEY_KPCOMMA: ","}


def key_name(code: int) -> str:
    name = ecodes.KEY.get(code)
    if isinstance(name, (list, tuple)):
        name = name[-1]
    return name or f"key {code}"


@dataclass(frozen=True)
class Typed:
    """One scan as typed: its text, the key that ended it, and what went wrong on the way."""
    text: str
    end: str  # "enter", "tab", "silence"; "unfinished" or "lost" when dropped (see keystream)
    problems: tuple[str, ...] = ()
    keys: int = 0  # key presses, for the wire log


class KeyDecoder:
    """Turns `evdev.InputEvent`s into scans; keeps Shift, Ctrl, Alt, CapsLock and NumLock state.

    Only key-down events make characters; autorepeat is ignored. NumLock starts on, because
    scanners that send keypad digits expect it. A key that means nothing here is recorded as a
    problem of the scan it is in, so the driver can count the scan as a fault.
    """

    def __init__(self, layout: str = "us") -> None:
        self.layout = TABLES[layout]
        self.held: set[int] = set()
        self.capslock = False
        self.numlock = True
        self._text: list[str] = []
        self._problems: list[str] = []
        self._dead = ""  # a dead key's accent, waiting for the next key
        self._keys = 0

    @property
    def pending(self) -> bool:
        """Part of a scan has been typed and not yet ended."""
        return bool(self._text or self._problems or self._dead)

    def feed(self, event: InputEvent) -> Typed | None:
        """The finished scan when `event` ends one; None otherwise."""
        if event.type != ecodes.EV_KEY:
            return None
        code = event.code
        if event.value == KEY_UP:
            self.held.discard(code)
            return None
        if event.value != KEY_DOWN:  # autorepeat types nothing
            return None
        self.held.add(code)
        self._keys += 1
        if code in END_KEYS:
            return self._finish(END_KEYS[code])
        if code == ecodes.KEY_CAPSLOCK:
            self.capslock = not self.capslock
        elif code == ecodes.KEY_NUMLOCK:
            self.numlock = not self.numlock
        elif code not in QUIET_KEYS:
            self._press(code)
        return None

    def finish(self) -> Typed | None:
        """End the scan typed so far (the scanner went quiet without Enter or Tab)."""
        return self._finish("silence") if self.pending else None

    def resync(self, held: set[int]) -> None:
        """The keys really held now, read from the device after events were lost."""
        self.held = set(held)

    # --- one key press ----------------------------------------------------------------------

    def _press(self, code: int) -> None:
        altgr = self._altgr()
        if self._any(META_KEYS) or (self._any(ALT_KEYS) and not altgr):
            self._problems.append(f"Alt or Meta with {key_name(code)}")
            return
        char, dead = self._character(code, altgr)
        if char is None:
            return
        if self._any(CTRL_KEYS) and not altgr:
            self._add_control(char, code)
        elif dead:
            self._add(self._dead)  # two dead keys in a row: the first stands alone
            self._dead = char
        elif self._dead:
            # Dead key and space: the accent alone, which is how scanners send ^ ` ´ ~.
            self._add(self._dead if char == " " else self._dead + char)
            self._dead = ""
        else:
            self._add(char)

    def _character(self, code: int, altgr: bool) -> tuple[str | None, bool]:
        if code in KEYPAD_SIGNS:
            return KEYPAD_SIGNS[code], False
        if code in KEYPAD_DIGITS or code == KEYPAD_DECIMAL:
            if not self.numlock:
                self._problems.append(f"{key_name(code)} with NumLock off")
                return None, False
            return KEYPAD_DIGITS.get(code, self.layout.keypad_decimal), False
        chars = self.layout.keys.get(code)
        if chars is None:
            self._problems.append(f"unknown key {key_name(code)}")
            return None, False
        level = ALTGR if altgr else self._shift_level(chars)
        char = chars[level]
        if not char:
            self._problems.append(f"no character for {LEVEL_NAMES[level]}{key_name(code)} "
                                  f"in layout {self.layout.name}")
            return None, False
        return char, (code, level) in self.layout.dead

    def _shift_level(self, chars: tuple[str, str, str]) -> int:
        shifted = self._any(SHIFT_KEYS)
        # CapsLock shifts letters only (and Shift undoes it), as on Linux and Windows.
        if self.capslock and chars[PLAIN].isalpha() and chars[PLAIN].upper() == chars[SHIFT]:
            shifted = not shifted
        return SHIFT if shifted else PLAIN

    def _add_control(self, char: str, code: int) -> None:
        upper = char.upper()
        if len(upper) == 1 and "@" <= upper <= "_":
            self._add(chr(ord(upper) - 0x40))  # Ctrl+] is GS; the reading refuses it later
        else:
            self._problems.append(f"Ctrl with {key_name(code)}")

    def _add(self, text: str) -> None:
        self._text.append(text)

    def _any(self, codes: tuple[int, ...]) -> bool:
        return any(code in self.held for code in codes)

    def _altgr(self) -> bool:
        # Scanners programmed on Windows often send Ctrl+Alt for AltGr, which Windows accepts.
        return self.layout.has_altgr and (
            ecodes.KEY_RIGHTALT in self.held
            or (ecodes.KEY_LEFTALT in self.held and self._any(CTRL_KEYS)))

    def _finish(self, end: str) -> Typed:
        typed = Typed("".join(self._text) + self._dead, end, tuple(self._problems), self._keys)
        self._text.clear()
        self._problems.clear()
        self._dead = ""
        self._keys = 0
        return typed


# --- the other way: what keys a scanner presses for a character -----------------------------

@dataclass(frozen=True)
class Stroke:
    code: int
    shift: bool = False
    altgr: bool = False


def strokes(text: str, layout: str = "us", *, keypad_digits: bool = False) -> list[Stroke]:
    """The key strokes a scanner programmed for `layout` sends to type `text`.

    Raises ValueError for a character the layout cannot type.
    """
    table = _inverse(layout)
    out: list[Stroke] = []
    for char in text:
        if keypad_digits and char in _KEYPAD_KEYS:
            out.append(Stroke(_KEYPAD_KEYS[char]))
            continue
        try:
            stroke, dead = table[char]
        except KeyError:
            raise ValueError(f"layout {layout} cannot type {char!r}") from None
        out.append(stroke)
        if dead:
            out.append(Stroke(ecodes.KEY_SPACE))
    return out


_INVERSE: dict[str, dict[str, tuple[Stroke, bool]]] = {}
_KEYPAD_KEYS = {char: code for code, char in KEYPAD_DIGITS.items()}


def _inverse(layout: str) -> dict[str, tuple[Stroke, bool]]:
    if layout not in _INVERSE:
        table = TABLES[layout]
        found: dict[str, tuple[Stroke, bool]] = {}
        # Plain keys first, then Shift, then AltGr; among them a live key beats a dead one.
        for dead_pass in (False, True):
            for level in (PLAIN, SHIFT, ALTGR):
                for code, chars in sorted(table.keys.items()):
                    char = chars[level]
                    dead = (code, level) in table.dead
                    if char and dead == dead_pass and char not in found:
                        found[char] = (Stroke(code, level == SHIFT, level == ALTGR), dead)
        _INVERSE[layout] = found
    return _INVERSE[layout]
