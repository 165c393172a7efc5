"""The core's settings from the loaded configuration: the one config-to-`Settings` mapping.

Lives outside kiosk/core/ so the core never imports the config (nor the driver registry it
loads); the defaults stay on the core's dataclasses. Called once by the runtime at start-up.
"""

from __future__ import annotations

from kiosk.config import Config
from kiosk.core.circulation_view import CirculationSettings
from kiosk.core.offline_rules import parse_rules
from kiosk.core.session_view import Settings


def circulation_settings(config: Config) -> CirculationSettings:
    """The borrowing, return and renewal rules from [circulation], [ils], [kiosk], [devices]."""
    circ, kiosk = config.circulation, config.kiosk
    barcodes = config.driver_settings.barcodes  # how the library numbers its cards, too
    return CirculationSettings(
        ils=bool(config.ils.host), pin=circ.pin, pin_attempts=circ.pin_attempts,
        receipt=circ.receipt, printer="printer" in config.devices, offline=circ.offline,
        offline_max_items=circ.offline_max_items, offline_max_total=circ.offline_max_total,
        offline_refuse=parse_rules(circ.offline_refuse),
        ecard_prefixes=barcodes.ecard_prefixes, kiosk_id=kiosk.id,
        library_name_zh=kiosk.library_name_zh, library_name_en=kiosk.library_name_en,
        card_prefixes=barcodes.patron_prefixes, card_length=barcodes.length,
        card_luhn=barcodes.check_digit == "luhn")


def session_settings(config: Config) -> Settings:
    """The session's settings: idle timers, language, staff PIN and the circulation rules."""
    return Settings(idle_timeout_s=config.idle.timeout_s, countdown_s=config.idle.countdown_s,
                    language=config.kiosk.language, pin_hash=config.admin.pin_hash,
                    max_pin_attempts=config.admin.max_attempts, lockout_s=config.admin.lockout_s,
                    circulation=circulation_settings(config))
