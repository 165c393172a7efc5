"""What every subcommand does first: read the config and apply its log level."""

from __future__ import annotations

import argparse
from pathlib import Path

from common import logsetup
from kiosk import config as config_module
from kiosk.config import Config

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "demo" / "demo.toml"


def load_config(args: argparse.Namespace, *, demo: bool = False) -> Config:
    """The config named by --config, else the demo's (with --demo), else the system's."""
    path = args.config or (DEMO_CONFIG if demo else None)
    config = config_module.load(path)
    if not args.log_level:
        logsetup.configure(config.logging.level)
    return config

