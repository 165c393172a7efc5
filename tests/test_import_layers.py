"""Which part of the project may import which: the table below is the diagram in
docs/architecture.md ("The parts, and which may import which"), checked. Imports are read with
`ast` (lazy ones inside functions too), so nothing is loaded.

The three deployables stand apart: the central server and the e-book content tools import only
themselves and the base package `common/`, which imports none of the others. Inside the kiosk,
the core is pure (tests/test_core_without_kivy.py checks the standard library side), the screens
are reached only from the command line, and the simulators only from the demo."""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHIPPED = ("common", "drivers", "content", "central", "kiosk")
# A module belongs to the longest of these that names it or its package.
PARTS = ("common.masking", "common.marks", "common", "drivers.events", "drivers.sim", "drivers",
         "content", "central", "kiosk.core", "kiosk.demo", "kiosk.ui", "kiosk.cli", "kiosk")

COMMON = {"common", "common.masking", "common.marks"}
DRIVERS = {"drivers", "drivers.events"}
KIOSK = {"kiosk", "kiosk.core", "content"} | DRIVERS | COMMON
MAY_IMPORT = {
    "common.masking": set(),
    "common.marks": set(),
    "common": COMMON,
    "drivers.events": {"drivers.events"},
    # The registry builds `sim:` sources: the simulators are shipped drivers.
    "drivers": DRIVERS | {"drivers.sim"} | COMMON,
    "drivers.sim": DRIVERS | {"drivers.sim"} | COMMON,
    "content": {"content"} | COMMON,
    "central": {"central"} | COMMON,
    "kiosk.core": {"kiosk.core", "drivers.events", "common.masking", "common.marks"},
    "kiosk": KIOSK,
    "kiosk.demo": KIOSK | {"kiosk.demo", "drivers.sim"},
    "kiosk.ui": KIOSK | {"kiosk.ui", "kiosk.demo"},
    "kiosk.cli": KIOSK | {"kiosk.cli", "kiosk.ui", "kiosk.demo"},
}
# One module each, named with why.
EXCEPTIONS = {
    ("kiosk/__main__.py", "kiosk.cli"),  # `python -m kiosk` is the command line
    ("kiosk/status.py", "kiosk.demo"),   # the doctor warns when the staff PIN is the demo's
}


def part_of(module: str) -> str:
    return next(p for p in PARTS if module == p or module.startswith(p + "."))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_every_part_has_its_rule():
    assert set(MAY_IMPORT) == set(PARTS)


@pytest.mark.parametrize("package", SHIPPED)
def test_a_part_imports_only_what_it_may(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        source = part_of(module_name(path))
        for name in imported(path):
            if name.split(".")[0] not in SHIPPED:
                continue  # the standard library and third parties: other tests
            target = part_of(name)
            rel = str(path.relative_to(ROOT))
            if target not in MAY_IMPORT[source] | {source} and (rel, target) not in EXCEPTIONS:
                wrong.append(f"{rel} ({source}) imports {name} ({target})")
    assert wrong == []
