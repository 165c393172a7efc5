"""What may be lent while the ILS is away: only what the kiosk itself can tell is lendable.

Pure. The library lists barcode prefixes ("REF") and inclusive ranges of same-length numbers
("30000000-30009999") never to lend offline; a tag that says "not for circulation" is never
lent offline either. What the ILS refused recently is kept by the offline store (it needs a
file), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True)
class ItemRule:
    """A prefix (`last` empty), or a range of barcodes `first`..`last` of one length."""
    first: str
    last: str = ""

    def matches(self, item_id: str) -> bool:
        if not self.last:
            return item_id.startswith(self.first)
        return (len(item_id) == len(self.first) and item_id.isdigit()
                and self.first <= item_id <= self.last)


def parse_rules(text: str) -> tuple[ItemRule, ...]:
    """"REF,30000000-30009999" -> rules; a ValueError names what is wrong."""
    rules = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        found = _RANGE.match(part)
        if found and len(found[1]) == len(found[2]):
            if found[1] > found[2]:
                raise ValueError(f"the range {part!r} runs backwards")
            rules.append(ItemRule(found[1], found[2]))
        elif found:
            raise ValueError(f"the range {part!r} needs two numbers of the same length")
        else:
            rules.append(ItemRule(part))
    return tuple(rules)


def lendable_offline(item_id: str, usage: str | None, rules: tuple[ItemRule, ...]) -> bool:
    if usage == "not_for_circulation":
        return False
    return not any(rule.matches(item_id) for rule in rules)
