"""The three deployables stand apart (issue 16, "Three deployables"): the central server and the
e-book content tools never import the kiosk or its drivers, and the base package `common/` that
all three share imports none of them. Imports are read with `ast`, so nothing is loaded."""

import ast

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "central": ("kiosk", "drivers"),
    "content": ("kiosk", "drivers"),
    "common": ("kiosk", "drivers", "central", "content"),
}


def _imported(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_deployable_imports_only_what_it_may(package):
    assert (ROOT / package / "__init__.py").is_file()
    wrong = [f"{path.relative_to(ROOT)}: {name}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for name in _imported(path)
             if name.split(".")[0] in FORBIDDEN[package]]
    assert wrong == []
