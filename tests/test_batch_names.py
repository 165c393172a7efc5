"""The order of e-book batch names, shared by the kiosk and the central server."""

import pytest

from common.batch_names import batch_order, is_older_batch


@pytest.mark.parametrize("older, newer", [
    ("2026-12", "2027-01"), ("2026-9", "2026-10"), ("2026-12", "2026-12b"),
    ("2026-11", "2026-12-extra"), ("2026-12a", "2026-12B2"), ("1", "a")])
def test_older_batches_come_first(older, newer):
    assert is_older_batch(older, newer)
    assert not is_older_batch(newer, older)


def test_the_same_name_is_neither_older_nor_newer():
    assert batch_order("2026-12") == batch_order(" 2026-12 ")
    assert not is_older_batch("2026-12", "2026-12")
    assert batch_order("2026-12B") == batch_order("2026-12b")
