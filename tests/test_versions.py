"""common.versions: the one way kiosks, the central server and RAUC's handler order
versions."""

import pytest

from common.versions import is_older, parse_version


@pytest.mark.parametrize("text, parsed", [
    ("0.2.0", (0, 2)),
    ("0.2", (0, 2)),
    ("1", (1,)),
    ("0.10.3", (0, 10, 3)),
    ("0.2.0+20261206", (0, 2)),
    ("  0.2.1\n", (0, 2, 1)),
    ("0.0.0", ()),
    ("007.1", (7, 1)),
    ("0.2.0-qemu", (0, 2)),
    ("0.3.0-broken", (0, 3)),
    ("0.2.0-rc.1+build-7", (0, 2)),
])
def test_parse_version_gives_numbers_without_the_suffix(text, parsed):
    assert parse_version(text) == parsed


@pytest.mark.parametrize("a, b", [
    ("0.2.0", "0.10.0"),        # numbers, not text: "10" > "2"
    ("0.1.9", "0.2"),
    ("0.2", "0.2.1"),
    ("1.9.9", "2.0.0"),
    ("0.2.0+99999999", "0.2.1+1"),
    ("0.1.0", "0.2.0-qemu"),               # the QEMU test's image and bundles
    ("0.2.0-qemu", "0.3.0-broken"),
])
def test_is_older(a, b):
    assert is_older(a, b)
    assert not is_older(b, a)


@pytest.mark.parametrize("a, b", [
    ("0.2.0", "0.2.0"),
    ("0.2", "0.2.0"),            # a missing part is a zero
    ("0.2.0+20261206", "0.2.0+20251231"),  # the build suffix does not order
    ("0.2.0+20261206", "0.2.0"),
    ("0.2.0-qemu", "0.2.0+20261206"),      # a suffix after - does not order either
    ("0.2.0-qemu", "0.2.0"),
])
def test_equal_versions_are_not_older_either_way(a, b):
    assert not is_older(a, b)
    assert not is_older(b, a)


@pytest.mark.parametrize("text", [
    "", "   ", "v0.2.0", "0..2", ".2", "0.2.", "0.2.0+", "0.2.0-", "abc", "0.2 0.3",
    "0.2.0+a b", "-0.2",
    "١.٢",  # other scripts' digits are not ours
])
def test_not_a_version_raises_value_error_naming_it(text):
    with pytest.raises(ValueError) as caught:
        parse_version(text)
    assert repr(text.strip()) in str(caught.value)
    assert "0.2.0" in str(caught.value)  # says what a version looks like


def test_is_older_raises_on_either_side():
    with pytest.raises(ValueError):
        is_older("0.2.0", "latest")
    with pytest.raises(ValueError):
        is_older("latest", "0.2.0")


def test_a_non_string_is_a_value_error_too():
    with pytest.raises(ValueError):
        parse_version(None)  # type: ignore[arg-type]
