"""The runtime's effect table: every effect the core can ask for has a handler, and an effect
without one fails loudly instead of being dropped."""

import ast
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.core import events as ev
from kiosk.runtime import EFFECTS, Runtime

EVENTS_SOURCE = Path(ev.__file__)


def declared_effects() -> set[type]:
    """The classes kiosk/core/events.py declares under its "# --- effects" heading."""
    text = EVENTS_SOURCE.read_text(encoding="utf-8")
    heading = next(n for n, line in enumerate(text.splitlines(), 1)
                   if line.startswith("# --- effects"))
    names = [node.name for node in ast.parse(text).body
             if isinstance(node, ast.ClassDef) and node.lineno > heading]
    return {getattr(ev, name) for name in names}


def test_every_declared_effect_has_a_handler():
    effects = declared_effects()
    assert len(effects) >= 15  # the heading was found and the section read
    assert effects - set(EFFECTS) == set()
    assert set(EFFECTS) - effects == set()  # and the table holds nothing that is no effect


def test_an_effect_without_a_handler_raises():
    @dataclass(frozen=True)
    class Unheard:
        pass

    with pytest.raises(TypeError, match="Unheard"):
        Runtime._apply(SimpleNamespace(), [Unheard()])  # type: ignore[arg-type]


def test_the_runtime_does_not_import_the_simulators():
    """The demo reaches its simulated devices through kiosk/demo/hooks.py, not the runtime."""
    import kiosk.runtime
    tree = ast.parse(Path(kiosk.runtime.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert not {name for name in imported if name and name.startswith("drivers.sim")}
