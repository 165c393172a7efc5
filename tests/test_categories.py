"""The e-book categories have one table, in the base package every deployable may import, and
a reader sees each category by its name in their language (issue 17)."""

import ast

import pytest

from common.categories import CATEGORIES, category_name
from tests.conftest import ROOT
from tests.test_import_layers import SHIPPED


@pytest.mark.parametrize(("key", "language", "name"), [
    ("classics", "zh_CN", "经典名著"), ("classics", "en", "Classics"),
    ("economics", "zh_CN", "经济管理"), ("economics", "en", "Economics and business"),
    ("poetry", "zh_CN", "poetry"), ("poetry", "en", "poetry"), ("", "en", "")])
def test_a_category_by_its_name_in_the_readers_language(key, language, name):
    assert category_name(key, language) == name


def test_the_table_is_defined_once_and_imported_from_the_base_package():
    defined, imported_elsewhere = [], []
    for path in sorted(p for part in SHIPPED for p in (ROOT / part).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "CATEGORIES" for t in node.targets):
                defined.append(str(path.relative_to(ROOT)))
            if (isinstance(node, ast.ImportFrom) and node.module != "common.categories"
                    and any(a.name == "CATEGORIES" for a in node.names)):
                imported_elsewhere.append(str(path.relative_to(ROOT)))
    assert defined == ["common/categories.py"] and imported_elsewhere == []
    assert set(CATEGORIES) >= {"classics", "children", "health"}
