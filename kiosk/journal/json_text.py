"""JSON text made by a fixed `json.JSONEncoder`, quicker for a writer that encodes on every row.

`JSONEncoder.encode` builds the json module's C encoder anew on every call, with a dict to
find containers that hold themselves; `encode_with` builds it once, without that dict. The
text is the same, made by the same C code with the same settings. Runs in the caller's thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
    encode_basestring_ascii,
)
from typing import Any


def encode_with(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """`encoder.encode`, made once; a value that holds itself falls back to `encoder.encode`,
    which says so (ValueError). Python without the C encoder, or an indenting encoder: the
    encoder's own `encode`."""
    if c_make_encoder is None or encoder.indent is not None:
        return encoder.encode
    strings = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring
    chunks = c_make_encoder(None, encoder.default, strings, None, encoder.key_separator,
                            encoder.item_separator, encoder.sort_keys, encoder.skipkeys,
                            encoder.allow_nan)

    def encode(value: Any) -> str:
        try:
            return "".join(chunks(value, 0))
        except RecursionError:  # without the markers, a loop runs into the recursion limit
            return encoder.encode(value)

    return encode
