"""Names that say what a module is (issue 16, "Names"): shipped code is never named like a test
or a setuptools script, and the e-books do not reach into the journal for their link key."""

import ast

from tests.conftest import ROOT

SHIPPED = ("common", "kiosk", "drivers", "content", "central")


def _shipped_modules():
    for top in SHIPPED:
        yield from (ROOT / top).rglob("*.py") if (ROOT / top).is_dir() else ()


def test_no_shipped_module_is_named_like_a_test_or_a_setup_script():
    wrong = [str(path.relative_to(ROOT)) for path in _shipped_modules()
             if path.name.startswith("test_") or path.name == "setup.py"]
    assert wrong == []


def _imported(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_the_ebooks_do_not_import_the_journal():
    wrong = [f"{path.relative_to(ROOT)}: {name}"
             for path in (ROOT / "kiosk" / "ebooks").rglob("*.py")
             for name in _imported(path)
             if name == "kiosk.journal" or name.startswith("kiosk.journal.")]
    assert wrong == []


def test_no_kiosk_package_shares_its_name_with_a_core_module():
    core = {path.stem for path in (ROOT / "kiosk" / "core").glob("*.py")}
    packages = {path.parent.name for path in (ROOT / "kiosk").glob("*/__init__.py")}
    assert packages & core == set()


def _logger_name(arg, module):
    """A `getLogger` argument as the name it gives: a string, or `__name__ + "..."`."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add)
            and isinstance(arg.left, ast.Name) and arg.left.id == "__name__"
            and isinstance(arg.right, ast.Constant)):
        return module + arg.right.value
    return ast.unparse(arg)


def _logger_names(path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getLogger" and node.args):
            yield module, _logger_name(node.args[0], module)


def test_wire_loggers_are_named_owner_dot_wire():
    """One scheme: `<the package or module that speaks the protocol>.wire`, so a wire log sits
    under its owner's logger (`kiosk.sip2.wire`, `drivers.serial_lines.wire`)."""
    wrong = [f"{module}: {name}"
             for top in ("kiosk", "drivers", "content") for path in (ROOT / top).rglob("*.py")
             for module, name in _logger_names(path) if "wire" in name
             and not (name.endswith(".wire")
                      and f"{module}.".startswith(name.removesuffix("wire")))]
    assert wrong == []


def test_the_one_catalogue_module_is_the_catalogue():
    """`content/catalogue.py` is the e-book catalogue; the uploader's titles report and the
    demo's sample batch are named for what they do, not "catalogue" again."""
    named = sorted(str(path.relative_to(ROOT)) for path in _shipped_modules()
                   if path.name == "catalogue.py")
    assert named == ["content/catalogue.py"]
