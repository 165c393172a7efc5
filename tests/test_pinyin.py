"""Pinyin forms for search: initials and full spelling, polyphonic characters in context."""

import pytest

from content.pinyin import initials, spelled


@pytest.mark.parametrize("text, first, full", [
    ("红楼梦", "hlm", "hongloumeng"),
    ("长安十二时辰", "casesc", "changanshiershichen"),  # 长 read chang in 长安, not zhang
    ("重庆森林", "cqsl", "chongqingsenlin"),  # 重 read chong, not zhong
    ("银行家", "yhj", "yinhangjia"),  # 行 read hang, not xing
    ("Python编程", "pythonbc", "pythonbiancheng"),
    ("三体 III", "stiii", "santiiii"),
    ("《活着》", "hz", "huozhe"),  # title marks dropped
    ("", "", ""),
])
def test_initials_and_spelling(text, first, full):
    assert (initials(text), spelled(text)) == (first, full)
