"""Multi-part items on the pad: a book with its CD is complete only when both tags are there."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from drivers.events import ItemSet, Tag


def item_sets(tags: Iterable[Tag]) -> tuple[ItemSet, ...]:
    """One entry per decoded item id, in item id order, with the part numbers present."""
    parts: dict[str, int] = {}
    present: dict[str, set[int]] = defaultdict(set)
    for tag in tags:
        if tag.item_id is None or tag.error:
            continue
        # Tags of one set should agree on the count; if not, trust the largest claim.
        parts[tag.item_id] = max(parts.get(tag.item_id, 1), tag.parts)
        present[tag.item_id].add(tag.part)
    return tuple(ItemSet(item, parts[item], tuple(sorted(present[item])))
                 for item in sorted(parts))
