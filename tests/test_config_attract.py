"""[attract]: the covers and the library's notices on the attract screen; a wrong notice stops
start-up with the file, the notice's number and what is wrong."""

import pytest

from kiosk.config import AttractNotice, load
from kiosk.errors import ConfigError


def config_with(tmp_path, attract: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[attract]\n{attract}', encoding="utf-8")
    return path


def test_no_section_means_covers_and_no_notices(tmp_path):
    attract = load(config_with(tmp_path, "")).attract
    assert attract.covers is True and attract.notices == ()


def test_notices_in_both_languages_with_their_days(tmp_path):
    attract = load(config_with(tmp_path, '''cover_s = 12
notices = [
  { zh = "12月25日闭馆", en = "Closed on 25 December", from = "2026-12-20", until = "2026-12-25" },
  { zh = "新书到馆，欢迎借阅" },
  { zh = "寒假开放时间", from = 2027-01-10 },
]
''')).attract
    assert attract.cover_s == 12
    assert attract.notices == (
        AttractNotice("12月25日闭馆", "Closed on 25 December", "2026-12-20", "2026-12-25"),
        AttractNotice("新书到馆，欢迎借阅"), AttractNotice("寒假开放时间", start="2027-01-10"))
    closed = attract.notices[0]
    assert [closed.shows_on(day) for day in ("2026-12-19", "2026-12-20", "2026-12-25",
                                              "2026-12-26")] == [False, True, True, False]
    assert attract.notices[1].shows_on("1999-01-01")


@pytest.mark.parametrize("notices, message", [
    ('"闭馆"', "option 'notices' in section [attract] must be a list of notices"),
    ('["闭馆"]', "notice 1 in section [attract] must be a table like { zh = "),
    ('[{ en = "Closed" }]', "notice 1 in section [attract] has no Chinese text 'zh'"),
    ('[{ zh = "  " }]', "notice 1 in section [attract] has no Chinese text 'zh'"),
    ('[{ zh = "闭馆", title = "x" }]', "notice 1 in section [attract]: unknown key 'title'; "
                                      "allowed: zh, en, from, until"),
    ('[{ zh = "开" }, { zh = "闭馆", en = 3 }]', "notice 2 in section [attract]: 'en' must be "
                                               "text"),
    ('[{ zh = "闭馆", until = "2026-13-01" }]', "notice 1 in section [attract]: 'until' must "
                                               "be a date like 2027-01-31 (got '2026-13-01')"),
    ('[{ zh = "闭馆", from = 2026-12-20T10:00:00 }]', "'from' must be a date like 2027-01-31"),
    ('[{ zh = "闭馆", from = "2026-12-20", until = "2026-12-01" }]',
     "notice 1 in section [attract]: 'until' (2026-12-01) is before 'from' (2026-12-20)"),
    ('[{ zh = "' + "长" * 81 + '" }]', "notice 1 in section [attract]: 'zh' is longer than "
                                        "80 characters"),
    ("[" + ", ".join('{ zh = "x" }' for _ in range(21)) + "]",
     "option 'notices' in section [attract] has 21 notices; at most 20"),
])
def test_a_wrong_notice_is_refused_with_what_is_wrong(tmp_path, notices, message):
    path = config_with(tmp_path, f"notices = {notices}\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_notice_may_be_a_table_of_its_own(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[attract]\ncovers = false\n'
                    '[[attract.notices]]\nzh = "寒假开放时间：9:00-17:00"\n'
                    'en = "Winter holiday hours: 9:00-17:00"\nuntil = 2027-02-28\n',
                    encoding="utf-8")
    attract = load(path).attract
    assert attract.covers is False
    assert attract.notices == (AttractNotice("寒假开放时间：9:00-17:00",
                                             "Winter holiday hours: 9:00-17:00", "", "2027-02-28"),)


def test_other_options_are_checked_as_usual(tmp_path):
    with pytest.raises(ConfigError, match="option 'cover_s' in section \\[attract\\] must be >= "):
        load(config_with(tmp_path, "cover_s = 0\n"))
    with pytest.raises(ConfigError, match="unknown option 'notice'"):
        load(config_with(tmp_path, 'notice = "x"\n'))
