"""The pinned requirement sets, one per deployable: the kiosk image carries no web server or
database driver, the central server no Kivy or device library, staff's e-book tool neither; each
pin is written once; the development set holds them all. Checked on the files, on the installed
packages' own requirements, and by importing each deployable's modules with every package
outside its set made unavailable."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
KIOSK, CENTRAL, CONTENT, DEV = (f"requirements-{name}.txt"
                                for name in ("kiosk", "central", "content", "dev"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
# The project's own packages: whose modules each deployable imports.
PROJECT = ("kiosk", "drivers", "content", "central", "common")
WEB_AND_DATABASE = {"fastapi", "starlette", "uvicorn", "pydantic", "pydantic-core", "psycopg",
                    "psycopg-binary", "jinja2", "itsdangerous", "python-multipart"}
KIVY_AND_DEVICES = {"kivy", "kivy-garden", "evdev", "pyserial"}
# What each deployable's modules are: the kiosk image's (the project's wheel less central/),
# the central server's and staff's e-book tool's (`kiosk content`, through the kiosk's CLI).
SHIPPED = {KIOSK: ("kiosk", "drivers", "content", "common"), CENTRAL: ("central", "common"),
           CONTENT: ("content", "common", "kiosk.cli")}


def lines(file: str) -> list[str]:
    """A requirement file's lines without comments and blanks."""
    text = (ROOT / file).read_text(encoding="utf-8")
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def includes(file: str) -> list[str]:
    return [line.removeprefix("-r").strip() for line in lines(file) if line.startswith("-r")]


def own_pins(file: str) -> dict[str, str]:
    """The pins written in this file itself, by canonical name."""
    pins = {}
    for line in lines(file):
        if line.startswith("-r"):
            continue
        match = PIN.match(line)
        assert match, f"{file}: {line!r} is neither `name==version` nor `-r file`"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


@cache
def pins(file: str) -> dict[str, str]:
    """The set a file installs: its own pins and those of the files it includes, recursively."""
    closure = own_pins(file)
    for included in includes(file):
        closure |= pins(included)
    return closure


def requirement_files() -> list[str]:
    return sorted(p.name for p in ROOT.glob("requirements*.txt"))


def test_every_file_is_pins_and_includes_of_files_that_exist():
    for file in requirement_files():
        own_pins(file)
        for included in includes(file):
            assert (ROOT / included).is_file(), f"{file} includes {included}, which is missing"


def test_each_pin_is_written_once_across_the_files():
    where: dict[str, list[str]] = {}
    for file in requirement_files():
        for name in own_pins(file):
            where.setdefault(name, []).append(file)
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert not twice, f"pinned in more than one file (include one from the other): {twice}"


def test_the_kiosk_carries_no_web_server_or_database_driver():
    assert not WEB_AND_DATABASE & pins(KIOSK).keys()


def test_the_central_server_carries_no_kivy_or_device_library():
    assert not KIVY_AND_DEVICES & pins(CENTRAL).keys()


def test_staffs_ebook_tool_carries_neither():
    assert not (WEB_AND_DATABASE | KIVY_AND_DEVICES) & pins(CONTENT).keys()


def test_the_development_set_holds_every_other_set():
    for file in requirement_files():
        missing = pins(file).keys() - pins(DEV).keys()
        assert not missing, f"{DEV} lacks {file}'s {sorted(missing)}"


def test_the_shell_reads_the_kiosk_set_as_python_does():
    """setup.sh's wheel check and the image's arm64 download read the set through
    requirement_pins, which follows the includes as pip does."""
    shown = subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && requirement_pins '
                            f'{KIOSK}'], cwd=ROOT, capture_output=True, text=True, timeout=30,
                           check=True).stdout.split()
    assert {canonicalize_name(pin.split("==")[0]): pin.split("==")[1] for pin in shown} \
        == pins(KIOSK)
    assert len(shown) == len(pins(KIOSK))


def _installed_requirements(name: str) -> set[str]:
    dist = metadata.distribution(name)
    needed = set()
    for text in dist.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            needed.add(canonicalize_name(requirement.name))
    return needed


@pytest.mark.parametrize("file", requirement_files())
def test_each_set_holds_what_its_pins_require(file):
    """A set installs with `--no-deps` semantics as far as pins go: every package its pins
    require (read from the installed packages of the development set) is pinned in it too."""
    closure = pins(file)
    lacking = {f"{name} (for {pinned})" for pinned in closure
               for name in _installed_requirements(pinned) if name not in closure}
    assert not lacking, f"{file} lacks {sorted(lacking)}"


@cache
def _distributions_of_modules() -> dict[str, set[str]]:
    return {module: {canonicalize_name(d) for d in dists}
            for module, dists in metadata.packages_distributions().items()}


def _project_sources(packages: tuple[str, ...]) -> list[Path]:
    found = []
    for package in packages:
        folder = ROOT.joinpath(*package.split("."))
        found += sorted(folder.rglob("*.py")) if folder.is_dir() else []
    return found


@pytest.mark.parametrize("file", [KIOSK, CENTRAL, CONTENT])
def test_every_import_in_a_deployables_code_is_in_its_set(file):
    """Every third-party import, lazy ones too (the .xlsx reader, the report writer), comes
    from a package the deployable's set pins."""
    owners = _distributions_of_modules()
    outside = set()
    for path in _project_sources(SHIPPED[file]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in PROJECT and top in owners and not owners[top] & pins(file).keys():
                    outside.add(f"{path.relative_to(ROOT)}: {name}")
    assert not outside, f"imports from outside {file}: {sorted(outside)}"


# Every module of the given packages imported with the packages outside the set unavailable
# (as in a virtualenv that holds only the set); prints one line per module that fails, then
# `loaded:` and the project modules that came in.
IMPORT_ALL = """
import importlib, pkgutil, sys
allowed, packages = set(sys.argv[1].split(',')), sys.argv[2].split(',')
from importlib import metadata
from packaging.utils import canonicalize_name
missing = {module for module, dists in metadata.packages_distributions().items()
           if not {canonicalize_name(d) for d in dists} & allowed}
class Unavailable:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] in missing:
            raise ModuleNotFoundError(f'No module named {name!r} (not in the set)', name=name)
sys.meta_path.insert(0, Unavailable())
for package in packages:
    top = importlib.import_module(package)
    for module in pkgutil.walk_packages(top.__path__, package + '.'):
        if module.name.rpartition('.')[2] == '__main__':
            continue
        try:
            importlib.import_module(module.name)
        except Exception as e:
            print(f'{module.name}: {type(e).__name__}: {e}')
print('loaded:', *sorted(m for m in sys.modules if m.partition('.')[0] in {project}))
"""


@cache
def import_all(file: str) -> tuple[list[str], set[str]]:
    """(the modules that failed to import, the project modules loaded) for a deployable."""
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1",
               KIVY_LOG_MODE="PYTHON")
    allowed = ",".join(sorted(pins(file).keys() | {"library-kiosk"}))
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL.replace("{project}",
                                                                    repr(set(PROJECT))),
                           allowed, ",".join(SHIPPED[file])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    *failed, loaded = done.stdout.splitlines()
    return failed, set(loaded.split()[1:])


@pytest.mark.parametrize("file", [KIOSK, CENTRAL, CONTENT])
def test_every_module_of_a_deployable_imports_with_only_its_set(file):
    failed, _ = import_all(file)
    assert not failed, f"with only {file} installed:\n" + "\n".join(failed)


def test_the_central_server_loads_no_kiosk_drivers_or_content_module():
    _, loaded = import_all(CENTRAL)
    foreign = {m for m in loaded if m.partition(".")[0] not in ("central", "common")}
    assert not foreign, sorted(foreign)


def test_the_kiosk_loads_no_central_module():
    _, loaded = import_all(KIOSK)
    assert not {m for m in loaded if m.partition(".")[0] == "central"}
