"""The TOML config: defaults, the boot-partition override, and messages that name what is wrong."""

import dataclasses

import pytest

from kiosk import config as config_module
from kiosk.config import Config, load, load_files
from kiosk.errors import ConfigError
from tests.conftest import ROOT

EXAMPLE = ROOT / "systemd" / "kiosk.toml.example"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_config_loads_and_equals_the_defaults():
    loaded = load(EXAMPLE)
    assert dataclasses.replace(loaded, sources=()) == Config()


def test_the_example_documents_every_option():
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in dataclasses.fields(Config):
        if section.name in ("sources", "origins", "devices"):
            continue
        assert f"[{section.name}]" in text
        for option in dataclasses.fields(getattr(Config(), section.name)):
            assert f"\n{option.name} = " in text, f"[{section.name}] {option.name} undocumented"


def test_the_demo_config_loads():
    config = load(ROOT / "kiosk" / "demo" / "demo.toml")
    assert config.devices == {"scanner": "sim:scanner", "rfid": "sim:3m810?scenario=demo",
                              "printer": "sim:printer"}
    assert config.admin.pin_hash
    assert "~" not in str(config.data_dir)


def test_boot_partition_overrides_key_by_key(tmp_path):
    base = write(tmp_path, "etc.toml", '[kiosk]\nid = "liling-lobby-1"\nlanguage = "en"\n'
                                       '[idle]\ntimeout_s = 90\n')
    boot = write(tmp_path, "boot.toml",
                 '[kiosk]\nlanguage = "zh_CN"\n[devices]\nscanner = "sim:scanner"\n')
    config = load_files([base, boot])
    assert (config.kiosk.id, config.kiosk.language, config.idle.timeout_s) == \
        ("liling-lobby-1", "zh_CN", 90)
    assert config.devices == {"scanner": "sim:scanner"}
    assert config.sources == (str(base), str(boot))


def test_default_locations_are_etc_then_the_boot_partition(tmp_path, monkeypatch):
    etc = write(tmp_path, "etc.toml", "[idle]\ntimeout_s = 90\n")
    firmware = write(tmp_path, "firmware.toml", "[idle]\ncountdown_s = 20\n")
    monkeypatch.setattr(config_module, "DEFAULT_PATH", etc)
    monkeypatch.setattr(config_module, "BOOT_OVERRIDES", (firmware, tmp_path / "absent.toml"))
    config = load()
    assert (config.idle.timeout_s, config.idle.countdown_s) == (90, 20)
    monkeypatch.setattr(config_module, "DEFAULT_PATH", tmp_path / "absent.toml")
    monkeypatch.setattr(config_module, "BOOT_OVERRIDES", ())
    assert load() == Config()


@pytest.mark.parametrize("text, message", [
    ("[kiosk]\nidd = 'x'\n", "unknown option 'idd' in section [kiosk]; allowed: id, "),
    ("[kioskk]\n", "unknown section [kioskk]; allowed: kiosk, display"),
    ("[idle]\ntimeout_s = 2\n", "option 'timeout_s' in section [idle] must be >= 5 (got 2)"),
    ("[idle]\ntimeout_s = '60'\n", "must be a whole number (got '60')"),
    ("[display]\nfullscreen = 1\n",
     "option 'fullscreen' in section [display] must be one of auto, yes, no"),
    ("[display]\nshow_cursor = 'off'\n", "must be one of auto, yes, no (got 'off')"),
    ("[idle]\ntimeout_s = true\n", "must be a whole number (got True)"),
    ("[kiosk]\nlanguage = 'fr'\n", "must be one of zh_CN, en (got 'fr')"),
    ("[kiosk]\nid = 'Lobby 1'\n", "lower-case letters, digits and '-'"),
    ("[admin]\npin_hash = '1234'\n", "make one with 'kiosk hash-pin'"),
    ("[central]\nurl = 'ftp://x'\n", "an http:// or https:// address"),
    ("[devices]\nscanner = 'usb:0'\n",
     "device 'scanner' in section [devices]: 'usb:0': sources start with"),
    ("[devices]\nrfid = 'sim:3m810?scenario=demo&speed=9'\n",
     "unknown option 'speed'; allowed: security"),
    ("[devices]\nrfid = '3m810:/dev/ttyUSB0?poll_ms=10'\n",
     "option poll_ms must be between 50 and 5000"),
    ("[rfid]\nafi_secured = 0xC2\n",
     "'afi_secured' and 'afi_unsecured' in section [rfid] must differ"),
    ("[barcodes]\npatron_prefixes = '2, 8'\n", "prefixes separated by commas"),
    ("[devices]\nscanner = 3\n", "must be a source string"),
    ("idle = 3\n", "'idle' must be a section [idle]"),
    ("[idle\n", "not valid TOML"),
])
def test_bad_configs_stop_with_file_section_option_and_allowed_values(tmp_path, text, message):
    path = write(tmp_path, "kiosk.toml", text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_message_names_the_file_that_holds_the_bad_value(tmp_path):
    base = write(tmp_path, "etc.toml", "[idle]\ntimeout_s = 60\n")
    boot = write(tmp_path, "boot.toml", "[idle]\ntimeout_s = 1\n")
    with pytest.raises(ConfigError, match=f"^{boot}: option 'timeout_s'"):
        load_files([base, boot])


def test_integers_are_fine_for_seconds_with_fractions(tmp_path):
    config = load(write(tmp_path, "kiosk.toml", "[admin]\nlong_press_s = 2\n"))
    assert config.admin.long_press_s == 2.0


def test_a_missing_or_unreadable_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "absent.toml")
    folder = tmp_path / "kiosk.toml"
    folder.mkdir()  # unreadable as a file even for root
    with pytest.raises(ConfigError, match="cannot read"):
        load_files([folder])


def test_paths_default_to_the_data_dir_and_expand_home(tmp_path):
    config = load(write(tmp_path, "kiosk.toml", '[kiosk]\ndata_dir = "~/kiosk-data"\n'))
    assert config.journal_path == config.data_dir / "journal.sqlite3"
    assert config.patron_key_path.name == "patron.key"
    assert not str(config.data_dir).startswith("~")
    config = load(write(tmp_path, "kiosk.toml", '[journal]\npath = "/data/j.sqlite3"\n'))
    assert str(config.journal_path) == "/data/j.sqlite3"


def test_files_saved_by_windows_editors(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_bytes("[kiosk]\nlibrary_name_zh = '醴陵'\n".encode("utf-8-sig"))
    assert load(path).kiosk.library_name_zh == "醴陵"
    path.write_bytes("[kiosk]\nlibrary_name_zh = '醴陵'\n".encode("gbk"))
    with pytest.raises(ConfigError, match=f"^{path}: not UTF-8 text"):
        load(path)


def test_display_switches_read_true_and_false_as_yes_and_no(tmp_path):
    config = load(write(tmp_path, "kiosk.toml",
                        "[display]\nfullscreen = true\nshow_cursor = false\n"))
    assert (config.display.fullscreen, config.display.show_cursor) == ("yes", "no")


def test_rotation_is_a_quarter_turn(tmp_path):
    assert load(write(tmp_path, "k.toml", "[display]\nrotation = 90\n")).display.rotation == 90
    with pytest.raises(ConfigError, match=r"'rotation' in section \[display\] must be one of "
                                          r"0, 90, 180, 270 \(got 45\)"):
        load(write(tmp_path, "k.toml", "[display]\nrotation = 45\n"))


def test_ntp_servers_are_a_comma_list(tmp_path):
    config = load(write(tmp_path, "k.toml", '[time]\nntp_servers = "ntp.lib.cn,10.1.2.3"\n'))
    assert config.ntp_servers == ("ntp.lib.cn", "10.1.2.3")
    assert Config().ntp_servers == ()
    with pytest.raises(ConfigError, match="host names or addresses separated by commas"):
        load(write(tmp_path, "k.toml", '[time]\nntp_servers = "a.cn, b.cn"\n'))
