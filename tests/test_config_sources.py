"""One source per default: a config option that feeds a settings dataclass (the SIP2 client's
`IlsSettings`, the core's `Settings` and `CirculationSettings`) takes its default from that
dataclass, so the two cannot drift apart."""

import dataclasses

from kiosk import config as config_module
from kiosk.config import Config
from kiosk.core.circulation_view import CirculationSettings
from kiosk.core.session_view import Settings
from kiosk.core_settings import session_settings
from kiosk.sip2.settings import CHARSETS, EMPTY_FIELDS, NO_DUE_DATE, IlsSettings

# [section] option -> the settings field whose default it is (the one place it is written).
MIRRORS = {
    ("idle", "timeout_s"): (Settings, "idle_timeout_s"),
    ("idle", "countdown_s"): (Settings, "countdown_s"),
    ("kiosk", "language"): (Settings, "language"),
    ("admin", "pin_hash"): (Settings, "pin_hash"),
    ("admin", "max_attempts"): (Settings, "max_pin_attempts"),
    ("admin", "lockout_s"): (Settings, "lockout_s"),
    ("circulation", "pin"): (CirculationSettings, "pin"),
    ("circulation", "pin_attempts"): (CirculationSettings, "pin_attempts"),
    ("circulation", "receipt"): (CirculationSettings, "receipt"),
    ("circulation", "offline"): (CirculationSettings, "offline"),
    ("circulation", "offline_max_items"): (CirculationSettings, "offline_max_items"),
    ("circulation", "offline_max_total"): (CirculationSettings, "offline_max_total"),
    ("kiosk", "id"): (CirculationSettings, "kiosk_id"),
    ("kiosk", "library_name_zh"): (CirculationSettings, "library_name_zh"),
    ("kiosk", "library_name_en"): (CirculationSettings, "library_name_en"),
}


def _field(cls: type, name: str) -> dataclasses.Field:
    return {f.name: f for f in dataclasses.fields(cls)}[name]


def test_the_ils_section_is_the_sip2_clients_settings():
    # Names, defaults and choices written once, in kiosk/sip2/settings.py.
    assert config_module._SECTION_CLASSES["ils"] is IlsSettings
    assert Config().ils == IlsSettings()
    choices = {f.name: f.metadata.get("choices") for f in dataclasses.fields(IlsSettings)}
    assert choices["charset"] is CHARSETS
    assert choices["no_due_date"] is NO_DUE_DATE
    assert choices["empty_fields"] is EMPTY_FIELDS


def test_options_feeding_the_core_take_their_default_from_it():
    for (section, name), (source, source_name) in MIRRORS.items():
        option = _field(type(getattr(Config(), section)), name)
        assert option.metadata.get("mirrors") == (source, source_name), (section, name)
        assert option.default == _field(source, source_name).default, (section, name)
    assert config_module.LANGUAGES is _field(Settings, "languages").default


def test_settings_from_a_default_config_are_the_settings_defaults():
    built, own = session_settings(Config()), Settings()
    for f in dataclasses.fields(Settings):
        if f.name != "circulation":
            assert getattr(built, f.name) == getattr(own, f.name), f.name
    for f in dataclasses.fields(CirculationSettings):
        assert getattr(built.circulation, f.name) == getattr(own.circulation, f.name), f.name


def test_ecard_prefixes_default_is_the_drivers_barcode_rules():
    from drivers.settings import BarcodeRules
    assert Config().driver_settings.barcodes == BarcodeRules()
