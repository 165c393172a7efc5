"""SIP2 messages to bytes and back, checksums and dates: pure functions, any thread.

A message is a 2-digit code, fixed fields in spec order, variable fields `XXvalue|` (any
order, repeats allowed), then `AY<seq>AZ<checksum>`. The checksum is taken over the *encoded
bytes* (summing characters instead is the classic bug that only shows with Chinese titles).
Replies are decoded as a whole before they are split at '|': in GBK a second byte can be 0x7C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from common.masking import mask
from kiosk.sip2.errors import IlsBadRequest, IlsProtocolError
from kiosk.sip2.fields import FIXED, SECRET_FIELDS

BLANK_DATE = " " * 18
MAX_FIELD_BYTES = 255  # the spec's limit for a variable field
_CONTROL = re.compile(r"[\x00-\x1f\x7f|]")
_HEX = frozenset(b"0123456789ABCDEFabcdef")


@dataclass(frozen=True)
class Message:
    code: str
    fixed: tuple[tuple[str, str], ...] = ()        # (name, value) in spec order
    fields: tuple[tuple[str, str], ...] = ()       # (tag, value) as sent, repeats kept
    seq: int | None = None                          # AY, when present
    checksum: str | None = None                     # AZ, when present
    checksum_ok: bool | None = None                 # None: the message carried no checksum

    def get(self, name: str) -> str:
        """A fixed field's value by name."""
        for key, value in self.fixed:
            if key == name:
                return value
        raise KeyError(f"message {self.code} has no fixed field {name!r}")

    def first(self, tag: str, default: str = "") -> str:
        """The first value of a variable field, `default` when absent."""
        return next((value for key, value in self.fields if key == tag), default)

    def all(self, tag: str) -> tuple[str, ...]:
        return tuple(value for key, value in self.fields if key == tag)

    def has(self, tag: str) -> bool:
        return any(key == tag for key, _ in self.fields)


def message(code: str, fixed: dict[str, str] | None = None,
            fields: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()) -> Message:
    """A message with its fixed fields put in spec order (every one must be given)."""
    layout = FIXED[code]
    fixed = fixed or {}
    missing = [name for name, _ in layout if name not in fixed]
    extra = set(fixed) - {name for name, _ in layout}
    if missing or extra:
        raise ValueError(f"message {code}: fixed fields missing {missing}, unknown {sorted(extra)}")
    return Message(code, tuple((name, fixed[name]) for name, _ in layout), tuple(fields))


def checksum(data: bytes) -> str:
    """Two's complement of the low 16 bits of the byte sum, 4 upper-case hex digits."""
    return f"{-sum(data) & 0xFFFF:04X}"


def encode(msg: Message, *, charset: str, seq: int | None, with_checksum: bool) -> bytes:
    """The message's bytes without the CR; AY/AZ added when `with_checksum` (97 gets AZ only)."""
    out = bytearray(msg.code.encode("ascii"))
    for (name, width), (_, value) in zip(FIXED[msg.code], msg.fixed):
        data = value.encode("ascii", errors="strict") if value.isascii() else b""
        if len(data) != width:
            raise IlsBadRequest(f"message {msg.code}: fixed field {name} must be {width} "
                                f"ASCII characters (got {value!r})")
        out += data
    for tag, value in msg.fields:
        if _CONTROL.search(value):
            raise IlsBadRequest(f"field {tag} may not hold '|' or control characters "
                                f"(got {_shown(tag, value)!r})")
        data = value.encode(charset, errors="replace")
        if len(data) > MAX_FIELD_BYTES:
            raise IlsBadRequest(f"field {tag} is longer than {MAX_FIELD_BYTES} bytes")
        out += tag.encode("ascii") + data + b"|"
    if with_checksum:
        if msg.code not in ("96", "97"):
            if seq is None or not 0 <= seq <= 9:
                raise ValueError("a checksummed message needs a sequence number 0..9")
            out += b"AY" + str(seq).encode("ascii")
        out += b"AZ"
        out += checksum(bytes(out)).encode("ascii")
    return bytes(out)


def decode(data: bytes, *, charset: str) -> Message:
    """One message (without its CR). Unknown fields are kept, text that does not decode is
    replaced; a message that is too short or has an unknown code is an IlsProtocolError."""
    body, seq, given, ok = _split_trailer(data)
    text = body.decode(charset, errors="replace")
    code = text[:2]
    if code not in FIXED:
        raise IlsProtocolError(f"not a SIP2 message we know: {text[:40]!r}")
    pos, fixed = 2, []
    for name, width in FIXED[code]:
        value = text[pos:pos + width]
        if len(value) != width:
            raise IlsProtocolError(f"message {code} is cut short in its fixed field {name}: "
                                   f"{text[:60]!r}")
        fixed.append((name, value))
        pos += width
    return Message(code, tuple(fixed), _variable_fields(text[pos:]), seq, given, ok)


def _split_trailer(data: bytes) -> tuple[bytes, int | None, str | None, bool | None]:
    if len(data) >= 6 and data[-6:-4] == b"AZ" and all(b in _HEX for b in data[-4:]):
        given = data[-4:].decode("ascii").upper()
        ok = (sum(data[:-4]) + int(given, 16)) & 0xFFFF == 0
        rest = data[:-6]
        if len(rest) >= 3 and rest[-3:-1] == b"AY" and rest[-1:].isdigit():
            return rest[:-3], int(rest[-1:]), given, ok
        return rest, None, given, ok
    return data, None, None, None


def _variable_fields(text: str) -> tuple[tuple[str, str], ...]:
    fields = []
    for piece in text.split("|"):
        # A server may leave out the last '|' before AY; an empty piece is the end.
        if len(piece) >= 2:
            fields.append((piece[:2], piece[2:]))
    return tuple(fields)


def render(msg: Message, *, mask_patron: bool = False) -> str:
    """The message as text for people (--raw, the wire log): secrets (CO, AD, AC) replaced,
    the patron number (AA) masked when asked."""
    parts = [msg.code, *(value for _, value in msg.fixed)]
    for tag, value in msg.fields:
        if tag in SECRET_FIELDS and value:
            value = "****"
        elif tag == "AA" and mask_patron:
            value = mask(value)
        parts.append(f"{tag}{value}|")
    if msg.seq is not None:
        parts.append(f"AY{msg.seq}")
    if msg.checksum is not None:
        parts.append(f"AZ{msg.checksum}")
    return "".join(parts)


def _shown(tag: str, value: str) -> str:
    return "****" if tag in SECRET_FIELDS else mask(value) if tag == "AA" else value


# --- dates ---------------------------------------------------------------------------------

def sip_date(when: datetime) -> str:
    """YYYYMMDDZZZZHHMMSS in local time (ZZZZ blank); an aware time is converted first."""
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when.strftime("%Y%m%d") + "    " + when.strftime("%H%M%S")


_SIP_DATE = re.compile(r"^(\d{8})[ A-Z0-9]{4}(\d{6})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def parse_datetime(text: str) -> datetime | None:
    """A SIP2 18-character date as a naive local datetime; None when blank or malformed."""
    match = _SIP_DATE.match(text)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def parse_due(text: str) -> date | None:
    """A due date as servers send it: a SIP2 date, or an ISO date; None for anything else."""
    text = text.strip()
    parsed = parse_datetime(text)
    if parsed is not None:
        return parsed.date()
    match = _ISO_DATE.match(text) or (re.match(r"^(\d{4})(\d{2})(\d{2})", text))
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            return None
    return None
