"""The uploader's systemd units: a oneshot service that runs a real `kiosk` subcommand as the
kiosk user, and a timer every 15 minutes, spread and catching up after a power-off."""

import configparser
import shlex

from kiosk.cli.main import build_parser
from tests.conftest import ROOT


def unit(name):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(ROOT / "systemd" / name, encoding="utf-8")
    return parser


def test_the_service_runs_kiosk_upload_once_as_the_kiosk_user():
    service = unit("kiosk-upload.service")["Service"]
    assert service["Type"] == "oneshot" and service["User"] == "kiosk"
    program, *args = shlex.split(service["ExecStart"])
    assert program.endswith("/bin/kiosk")
    parsed = build_parser().parse_args(args)  # exits (fails the test) on an unknown subcommand
    assert parsed.command == "upload" and parsed.func.__module__ == "kiosk.cli.upload_cmd"
    assert not parsed.dry_run and not parsed.heartbeat_only
    assert "network-online.target" in unit("kiosk-upload.service")["Unit"]["After"]


def test_the_timer_fires_every_15_minutes_spread_and_persistent():
    timer = unit("kiosk-upload.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/15"
    assert timer["Timer"]["RandomizedDelaySec"] == "5min"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "Unit" not in timer["Timer"]  # so it starts kiosk-upload.service, its namesake
