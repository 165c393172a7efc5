"""Property-based test of the one printer parser fed with outside bytes: the DLE EOT status
bytes a receipt printer sends back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer.escpos import is_status_byte, parse_status
from tests.property_budget import PARSER_BUDGET

BYTES = st.integers(0, 255)


@PARSER_BUDGET
@given(BYTES, BYTES, BYTES)
def test_status_bytes_parse_and_anything_else_is_a_value_error(printer, cause, paper):
    if all(is_status_byte(b) for b in (printer, cause, paper)):
        status = parse_status(printer, cause, paper)
        assert status.ready == (status.problem() == "")
    else:
        with pytest.raises(ValueError, match="is not a reply to DLE EOT"):
            parse_status(printer, cause, paper)
