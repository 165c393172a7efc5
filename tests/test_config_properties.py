"""kiosk.toml comes from a technician's PC (the SD card's boot partition): whatever it holds,
loading it gives a Config or a ConfigError with a message, never another exception, and a
value the kiosk cannot use (NaN, a NUL, a number beyond a float) is refused at start."""

import dataclasses
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import config as config_module
from kiosk.errors import ConfigError
from tests.property_budget import PARSER_BUDGET

SECTIONS = {name: [f.name for f in dataclasses.fields(cls)]
            for name, cls in config_module._SECTION_CLASSES.items()}


def toml_value(value) -> str:
    """A TOML literal for a value the strategies make."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) \
            + "}"
    return str(value)


SCALARS = st.one_of(st.booleans(), st.integers(), st.integers(-2**64, 2**2000),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=20), st.sampled_from(["sim:scanner", "evdev:", "auto", "",
                                                           "01:00-05:00", "\x00", "luhn"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)


@st.composite
def config_texts(draw):
    """Known sections and options (and a few unknown ones) with any TOML values."""
    lines = []
    for section in draw(st.lists(st.sampled_from([*SECTIONS, "devices", "nosuch"]),
                                 max_size=4, unique=True)):
        lines.append(f"[{section}]")
        keys = st.sampled_from(SECTIONS.get(section, ["scanner", "pad", "x"]) + ["bogus"])
        for key in draw(st.lists(keys, max_size=4, unique=True)):
            lines.append(f"{key} = {toml_value(draw(VALUES))}")
    return "\n".join(lines) + "\n"


def load_text(tmp_path_factory, data: bytes):
    path = tmp_path_factory.mktemp("config") / "kiosk.toml"
    path.write_bytes(data)
    try:
        return config_module.load(path)
    except ConfigError as e:
        assert str(path) in str(e)  # the message names the file to fix
        return None


@PARSER_BUDGET
@given(text=config_texts())
def test_any_values_give_a_config_or_a_config_error(tmp_path_factory, text):
    load_text(tmp_path_factory, text.encode("utf-8"))


@PARSER_BUDGET
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_bytes_give_a_config_or_a_config_error(tmp_path_factory, data):
    load_text(tmp_path_factory, data)


@pytest.mark.parametrize("line,said", [
    ("[ils]\ntimeout_s = nan", "nan"),
    ("[central]\npause_s = -nan", "nan"),
    ("[ils]\ntimeout_s = 1" + "0" * 400, "too large"),
    ('[kiosk]\ndata_dir = "/var/lib/\\u0000kiosk"', "NUL"),
    ('[kiosk]\ndata_dir = " "', "empty"),
    ("[ils]\nhost = " + "[" * 5000 + "]" * 5000, "nested"),
])
def test_values_the_kiosk_cannot_use_are_refused_at_start(tmp_path, line, said):
    path = tmp_path / "kiosk.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=said):
        config_module.load(path)
