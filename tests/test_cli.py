"""The `kiosk` command as technicians run it: help, PIN hashes, no display, logging."""

import os
import subprocess
import sys

from kiosk.core.pin import verify_pin
from tests.conftest import ROOT


def kiosk(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "kiosk", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, input=stdin, env=env, timeout=60)


def test_help_names_the_subcommands_of_this_version():
    result = kiosk("--help")
    assert result.returncode == 0
    for command in ("run", "journal", "doctor", "hash-pin"):
        assert command in result.stdout
    assert kiosk("--version").stdout.startswith("kiosk 0.")
    for command in ("run", "journal", "doctor"):
        assert "--config" in kiosk(command, "--help").stdout


def test_hash_pin_makes_a_line_for_the_config():
    result = kiosk("hash-pin", "--stdin", stdin="482916\n")
    line = result.stdout.strip()
    assert line.startswith('pin_hash = "pbkdf2_sha256$')
    assert verify_pin("482916", line.split('"')[1])
    assert "482916" not in result.stderr


def test_hash_pin_refuses_pins_the_pad_cannot_type():
    result = kiosk("hash-pin", "--stdin", stdin="12ab\n")
    assert result.returncode == 1 and "4 to 12 digits" in result.stderr
    assert result.stdout == ""


def test_run_without_a_display_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "KIVY_WINDOW")}
    env["SSH_CONNECTION"] = "test"  # not on the Pi's own screen either
    result = kiosk("run", "--demo", env=env)
    assert result.returncode == 2
    assert "no display found" in result.stderr and "xvfb-run" in result.stderr
    # What to do on a Pi (KMS) and on a PC (a desktop's DISPLAY), in a line or two.
    for advice in ("/dev/dri/card0", "groups video and render", "SDL_VIDEODRIVER=kmsdrm",
                   "DISPLAY", "Xvfb"):
        assert advice in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.stderr


def test_a_bad_config_stops_run_with_one_clear_line_when_there_is_no_screen(tmp_path):
    """With a screen, `kiosk run` shows it out of service instead (test_app_out_of_service)."""
    path = tmp_path / "kiosk.toml"
    path.write_text("[idle]\ntimeout = 60\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "KIVY_WINDOW")}
    env["SSH_CONNECTION"] = "test"
    result = kiosk("run", "--config", path, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"kiosk: {path}: unknown option 'timeout' in section [idle]; "
                                     "allowed: timeout_s, countdown_s")



def test_config_and_log_level_are_taken_before_the_subcommand_too(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n')
    for args in (("--config", path, "journal", "stats"), ("journal", "stats", "--config", path),
                 ("--config", "/nowhere.toml", "--log-level", "DEBUG", "journal", "stats",
                  "--config", path)):
        result = kiosk(*args)
        assert result.returncode == 2 and "no journal here" in result.stderr, args
        assert str(tmp_path / "data") in result.stderr

LOG_A_CARD = """
import logging, sys
from common import logsetup
logsetup.configure("INFO")
logging.getLogger("kiosk.test").warning("card %s at desk 12", "23520001234566")
"""


def test_log_lines_mask_patron_numbers_and_suit_journald():
    plain = subprocess.run([sys.executable, "-c", LOG_A_CARD], cwd=ROOT, capture_output=True,
                           text=True, env={k: v for k, v in os.environ.items()
                                           if k != "JOURNAL_STREAM"}).stderr
    assert "**********4566 at desk 12" in plain and "23520001234566" not in plain
    assert " WARNING kiosk.test: " in plain
    journald = subprocess.run([sys.executable, "-c", LOG_A_CARD], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "JOURNAL_STREAM": "8:1234"}).stderr
    assert journald == "<4>kiosk.test: card **********4566 at desk 12\n"
