"""TOML option files read into frozen dataclasses, checked once at start: the kiosk's kiosk.toml
(kiosk/config.py) and the central server's central.toml (central/config.py) share this.

A section is a frozen dataclass whose fields are its options: the type annotation (str, int,
float or bool) and `option()`'s metadata (min, max, choices, pattern) say what a file may set.
An unknown option, a wrong type or a value out of range stops start-up with the file, section
and option. Each deployable words its messages in its own `Wording` (operators and their notes
quote them), so this module only decides what is wrong.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from common.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type checker's name for "any dataclass"

Section = TypeVar("Section", bound="DataclassInstance")
_KINDS: dict[Any, type] = {"str": str, "int": int, "float": float, "bool": bool,
                           str: str, int: int, float: float, bool: bool}


@dataclass(frozen=True)
class Wording:
    """A deployable's messages, as `str.format` templates. Every template may use {path},
    {section}, {name} and {value}; `where` is the prefix the others start with."""

    error: type[ConfigError]
    unreadable: str  # also {reason}
    where: str
    unknown: str  # also {allowed} (comma-separated, declared order) and {known} (sorted list)
    wrong_kind: str  # also {expected}: one of the choices, or `kind_names[kind]`
    kind_names: Mapping[type, str]
    below_min: str  # also {min} and {max}
    above_max: str  # also {min} and {max}
    # Fills a template: plain str.format, or a maker of messages that remember their template
    # and fields (the kiosk's, so that its command line can translate them).
    say: Callable[..., str] = str.format


def option(default: Any, *, min: float | None = None, max: float | None = None,
           choices: tuple[str, ...] | None = None, pattern: re.Pattern[str] | None = None,
           hint: str = "", mirrors: tuple[type, str] | None = None) -> Any:
    """A section field with its checks; `hint` is shown when a pattern does not match, and
    `mirrors` names the (dataclass, field) whose default this option's default is."""
    meta = {"min": min, "max": max, "choices": choices, "pattern": pattern, "hint": hint,
            "mirrors": mirrors}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


def default_of(source: type, name: str) -> Any:
    """The default of field `name` of the dataclass `source`, where it is written."""
    return next(f.default for f in dataclasses.fields(source) if f.name == name)


def read_toml(path: Path, wording: Wording) -> dict[str, Any]:
    """The file's tables and values; a file that cannot be read or is not TOML is fatal."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise wording.error(wording.say(wording.unreadable, path=path,
                                        reason=e.strerror)) from None
    # Windows Notepad may save UTF-8 with a byte-order mark, or another encoding altogether.
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise wording.error(f"{path}: not UTF-8 text; save it with the encoding UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise wording.error(f"{path}: not valid TOML: {e}") from None
    except RecursionError:  # tomllib recurses into arrays and inline tables
        raise wording.error(f"{path}: not valid TOML: arrays or tables nested too deeply") \
            from None


def build_section(cls: type[Section], section: str, values: Mapping[str, Any],
                  origin: Mapping[str, Path], wording: Wording) -> Section:
    """`cls` with the checked `values` of [section]; `origin` names the file each came from."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in values:
        if name not in fields:
            raise wording.error(wording.say(
                wording.unknown, path=origin[name], section=section, name=name, value=values[name],
                allowed=", ".join(fields), known=sorted(fields)))
    checked = {name: check_option(fields[name], section, value, origin[name], wording)
               for name, value in values.items()}
    return cls(**checked)


def check_option(f: dataclasses.Field[Any], section: str, value: Any, path: Path,
                 wording: Wording) -> Any:
    """`value` as option `f` of [section] takes it (an integer for a float is a float, true and
    false for a yes/no choice are "yes" and "no"), or the error saying what is wrong."""
    where = wording.say(wording.where, path=path, section=section, name=f.name, value=value)

    def fail(template: str, **more: Any) -> ConfigError:  # `value` as read so far
        return wording.error(wording.say(template, where=where, path=path, section=section,
                                         name=f.name, value=value, **more))

    kind = _KINDS[f.type]
    meta = f.metadata
    choices = meta.get("choices")
    # TOML booleans are not numbers here, and an integer is a fine float.
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            raise fail("{where} is too large (got a number of {digits} digits)",
                       digits=len(str(abs(value)))) from None
    if isinstance(value, float) and math.isnan(value):
        raise fail("{where} must be a number, not nan")
    if isinstance(value, str) and "\x00" in value:
        raise fail("{where} holds a NUL character (\\u0000)")
    if choices and {"yes", "no"} <= set(choices) and isinstance(value, bool):
        value = "yes" if value else "no"
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        expected = (wording.say("one of {choices}", choices=", ".join(choices)) if choices
                    else wording.kind_names[kind])
        raise fail(wording.wrong_kind, expected=expected)
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        raise fail(wording.below_min, min=low, max=high)
    if high is not None and value > high:
        raise fail(wording.above_max, min=low, max=high)
    if choices and value not in choices:
        raise fail("{where} must be one of {choices} (got {value!r})", choices=", ".join(choices))
    pattern = meta.get("pattern")
    if pattern is not None and value != "" and not pattern.match(value):
        raise fail("{where} is not valid: {hint} (got {value!r})", hint=meta["hint"])
    return value
