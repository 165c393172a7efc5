"""The e-book categories: the one table of their keys and names, shared by the content tools
(the sheet and the manifest accept only these keys), the kiosk's shelves and the central
server's figures and reports. Pure, any thread.

A batch carries only keys (`classics`); each reader sees the name in their own language.
"""

from __future__ import annotations

CATEGORIES = {  # key -> (Chinese, English), in the order the browse screen shows them
    "classics": ("经典名著", "Classics"),
    "literature_art": ("文学艺术", "Literature and art"),
    "history": ("历史", "History"),
    "health": ("健康养生", "Health"),
    "children": ("少儿", "Children"),
    "science": ("科普", "Popular science"),
    "life": ("生活", "Everyday life"),
    "economics": ("经济管理", "Economics and business"),
}


def category_name(key: str, language: str) -> str:
    """The category's name in `language` ("zh_CN" or "en"); a key this table does not know
    (a newer batch's, say) as it is, so it is still shown."""
    names = CATEGORIES.get(key)
    if names is None:
        return key
    return names[0] if language.startswith("zh") else names[1]
