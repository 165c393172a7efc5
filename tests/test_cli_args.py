"""The `kiosk` command under a careless technician's hands: every argument explained in --help,
--config before or after the subcommand, and odd arguments answered with one clear line and a
non-zero exit, never a traceback."""

import argparse
import io
import json
import os
import shlex
import subprocess
import sys

import pytest

from kiosk.cli.main import build_parser, main
from tests.conftest import ROOT


def walk(parser, path=("kiosk",)):
    """(command path, parser) for the parser and every subparser under it, recursively."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


def test_every_argument_of_every_subcommand_has_help():
    missing = []
    for path, parser in walk(build_parser()):
        if not parser.description:  # what `kiosk journal export --help` opens with
            missing.append(f"{' '.join(path)} (its own --help says nothing of what it does)")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                # Each subcommand's line in its parent's list is its help.
                helped = {a.dest for a in action._choices_actions if a.help}
                missing += [f"{' '.join(path)} {name}" for name in action.choices
                            if name not in helped]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "arguments without help:\n" + "\n".join(missing)


def test_config_is_taken_before_and_after_every_subcommand_and_the_later_wins():
    parser = build_parser()
    for path, sub in walk(parser):
        if sub.get_default("func") is None:
            continue
        words = list(path[1:])
        needed = [a for a in sub._actions if a.required and not a.option_strings]
        args = ["x"] * len(needed)
        options = sum((["--" + a.dest.replace("_", "-"), "x"] for a in sub._actions
                       if a.required and a.option_strings), [])
        before = parser.parse_args(["--config", "a.toml", *words, *args, *options])
        after = parser.parse_args([*words, *args, *options, "--config", "b.toml"])
        both = parser.parse_args(["--config", "a.toml", *words, *args, *options,
                                  "--config", "b.toml"])
        assert [str(a.config) for a in (before, after, both)] == [
            "a.toml", "b.toml", "b.toml"], path
    assert "the one after the subcommand wins" in " ".join(parser.format_help().split())


def test_a_closed_pipe_ends_the_output_quietly(tmp_path):
    """`kiosk journal stats | head`: the reader is gone before the first line."""
    from tests.journal_rows import add_rows, datetime, timedelta, timezone
    journal = tmp_path / "journal.sqlite3"
    add_rows(journal, 30, start=datetime(2026, 11, 1, tzinfo=timezone.utc),
             step=timedelta(minutes=5))
    for args in (["journal", "stats"], ["journal", "export"]):
        read, write = os.pipe()
        os.close(read)
        try:
            result = subprocess.run([sys.executable, "-m", "kiosk", *args, "--file", journal],
                                    cwd=ROOT, stdout=write, stderr=subprocess.PIPE, text=True,
                                    timeout=60)
        finally:
            os.close(write)
        assert result.returncode == 1 and result.stderr == "", (args, result.stderr[-800:])
    # And through a shell, to a `head` that reads one line and leaves.
    exported = subprocess.run(
        f"set -o pipefail; {sys.executable} -m kiosk journal export --file {journal} | head -n1",
        shell=True, executable="/bin/bash", cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert exported.stdout.startswith("\ufeffseq,") and "Traceback" not in exported.stderr


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """Files a careless technician names: missing, a folder, not UTF-8, not what is expected."""
    from tests.journal_rows import add_rows, datetime, timedelta, timezone
    tmp_path = tmp_path_factory.mktemp("odd")
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00garbage\x80")
    (tmp_path / "bad.toml").write_bytes(b'[kiosk]\nid = "\xff\xfe"\n')
    (tmp_path / "kiosk.toml").write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n')
    add_rows(tmp_path / "journal.sqlite3", 5, start=datetime(2026, 11, 1, tzinfo=timezone.utc),
             step=timedelta(hours=1))
    return tmp_path


# Each row: the arguments ({d}: the fixture's folder), and a word the one-line message holds.
ODD = [
    ("sip2 serve --data kiosk/demo/ils.toml --port 99999", "between 0 and 65535"),
    ("sip2 serve --data kiosk/demo/ils.toml --port -1", "between 0 and 65535"),
    ("sip2 serve --data kiosk/demo/ils.toml --host nosuch.invalid. --port 0", "cannot listen"),
    ("sip2 serve --data kiosk/demo/ils.toml --idle-timeout nan", "seconds"),
    ("sip2 serve --data {d}/missing.toml", "missing.toml"),
    ("sip2 serve --data {d}/folder", "folder"),
    ("sip2 serve --data {d}/binary", "binary"),
    ("sip2 serve --data", "expected one argument"),
    ("sip2 serve --data=", "empty"),
    ("sip2 item '' --config {d}/kiosk.toml", "empty item"),
    ("sip2 status --config {d}/folder", "folder"),
    ("sip2 status --config {d}/bad.toml", "UTF-8"),
    ("sip2 status --config {d}/binary", "UTF-8"),
    ("sip2 status --config ''", "empty"),
    ("journal stats --file {d}/missing.sqlite3", "no journal"),
    ("journal stats --file {d}/folder", "folder"),
    ("journal verify --file {d}/binary", "binary"),
    ("journal stats --file /etc/passwd/journal.sqlite3", "journal"),
    ("journal export --file {d}/journal.sqlite3 --since 2026-12-01 --until 2026-11-01",
     "before --since"),
    ("journal export --file {d}/journal.sqlite3 --since 0001-01-01", "between"),
    ("journal export --file {d}/journal.sqlite3 --until 9999-12-31", "between"),
    ("journal export --file {d}/journal.sqlite3 --since 2026-13-01", "not a date"),
    ("journal export --file {d}/journal.sqlite3 -o {d}/folder", "folder"),
    ("journal export --file {d}/journal.sqlite3 -o {d}/no/such/x.csv", "cannot write"),
    ("journal export --file {d}/journal.sqlite3 --output=", "empty"),
    ("journal prune --file {d}/journal.sqlite3 --keep-days 1000000000000", "between"),
    ("journal prune --file {d}/journal.sqlite3 --keep-days 99999999", "between"),
    ("content keygen {d}/binary/key {d}/binary/key.pub", "binary"),
    ("content sample {d}/s --count 0", "--count"),
    ("content sample {d}/s --count 99999999999", "between"),
    ("content sample {d}/binary/s --count 1", "binary"),
    ("content build {d}/missing {d}/out.tar --key {d}/binary", "PEM"),
    ("content sign {d}/folder --key {d}/binary", "key"),
    ("content verify {d}/binary --config {d}/kiosk.toml", "tar"),
    ("content verify {d}/folder --config {d}/kiosk.toml", "manifest"),
    ("content verify {d}/missing --config {d}/kiosk.toml", "missing"),
    ("devices listen --seconds nan --source sim:scanner --config {d}/kiosk.toml", "seconds"),
    ("devices listen --seconds -1 --source sim:scanner --config {d}/kiosk.toml", "seconds"),
    ("devices listen --seconds 1 --source bogus:x --config {d}/kiosk.toml", "sources start"),
    ("devices listen --seconds 1 --source= --config {d}/kiosk.toml", "empty"),
    ("devices secure --source sim:pad --uid zz --config {d}/kiosk.toml", "16 hex"),
    ("doctor --config {d}/folder", "folder"),
    ("update confirm --within nan", "seconds"),
    ("--log-level TRACE doctor", "invalid choice"),
    ("", "required"),
    ("nosuch", "invalid choice"),
]


@pytest.mark.parametrize("line,said", ODD, ids=[line for line, _ in ODD])
def test_odd_arguments_get_one_clear_line_and_a_non_zero_exit(odd, capsys, monkeypatch, line,
                                                              said):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HOME", str(odd))
    argv = shlex.split(line.format(d=odd))
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's refusals
        code = e.code
    out, err = capsys.readouterr()
    err = err or out  # doctor reports on standard output, like every other check
    assert code not in (0, None), err
    assert "Traceback" not in err
    message = [line for line in err.splitlines() if not line.startswith((" ", "usage:"))]
    assert len(message) == 1 and said in message[0], err


def test_hash_pin_refuses_digits_the_pad_cannot_type_and_an_empty_input(monkeypatch, capsys):
    for pin in ("１２３４５６", "²²²²", "\udcff\udcfe1234"):  # the last: bytes not UTF-8
        monkeypatch.setattr(sys, "stdin", io.StringIO(pin + "\n"))
        assert main(["hash-pin", "--stdin"]) == 1, pin
        out, err = capsys.readouterr()
        assert "4 to 12 digits" in err and out == ""
    result = subprocess.run([sys.executable, "-m", "kiosk", "hash-pin"], cwd=ROOT, input=b"",
                            capture_output=True, timeout=60,
                            start_new_session=True)  # no terminal for getpass
    assert result.returncode == 1 and b"no PIN was typed" in result.stderr
    assert b"Traceback" not in result.stderr


def test_a_command_line_loads_the_module_of_its_subcommand_alone():
    """`kiosk run` starts the app without the other subcommands' imports; the table of names
    is each module's own (--help lists them all, in that order)."""
    from kiosk.cli.main import SUBCOMMANDS

    [subparsers] = [a for a in build_parser()._actions
                    if isinstance(a, argparse._SubParsersAction)]
    assert list(subparsers.choices) == list(SUBCOMMANDS)
    for argv, named in ((["run", "--demo"], ["run"]),
                        (["--config", "run", "doctor"], ["doctor"]),  # a value, not a name
                        (["--log-level", "DEBUG", "journal", "stats"], ["journal"]),
                        (["--help"], list(SUBCOMMANDS)), (["nonsense"], list(SUBCOMMANDS)),
                        ([], list(SUBCOMMANDS))):
        [subparsers] = [a for a in build_parser(argv)._actions
                        if isinstance(a, argparse._SubParsersAction)]
        assert list(subparsers.choices) == named, argv
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys; from kiosk.cli.main import build_parser; "
         "build_parser(['run']); print(json.dumps(sorted(sys.modules)))"], cwd=ROOT,
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    loaded = json.loads(done.stdout)
    assert "kiosk.cli.run_cmd" in loaded and "kiosk.cli.media_cmd" not in loaded, loaded
