"""What the admin screen says above its list and beside "Upload now", without a screen: the
count of faults, what is wrong first, and what came of an upload in plain words, in both
languages; and the core keeping an upload's state while staff come and go."""

from __future__ import annotations

import pytest

from kiosk.core import events as ev
from kiosk.i18n import Translator
from kiosk.ui.screens import admin_summary as summary


@pytest.fixture(scope="module")
def tr():
    translator = Translator()
    return {lang: (lambda msgid, lang=lang, **args: translator.tr(lang, msgid, **args))
            for lang in ("zh_CN", "en")}


def test_what_is_wrong_comes_first_and_the_rest_keeps_its_order():
    rows = [(summary.rank(True, False), "version"), (summary.rank(False, False), "clock"),
            (summary.rank(None, False), "central"), (summary.rank(True, True), "ebooks"),
            (summary.rank(False, False), "ils")]
    assert summary.faults_first(rows) == ["clock", "ils", "ebooks", "version", "central"]


@pytest.mark.parametrize("ranks, zh, en", [
    ([0, 0, 2], "2 项故障", "2 faults"),
    ([0, 1, 1, 2], "1 项故障，2 项需注意", "1 fault, 2 to look at"),
    ([1, 2], "没有故障，1 项需注意", "No faults, 1 to look at"),
    ([2, 2], "没有故障，一切正常", "No faults: everything works"),
])
def test_the_headline_counts_faults(tr, ranks, zh, en):
    assert summary.headline(tr["zh_CN"], ranks) == zh
    assert summary.headline(tr["en"], ranks) == en


@pytest.mark.parametrize("finished, zh, en", [
    (ev.UploadFinished(True, rows=12, counts=5), "已上传 12 条记录（5 项统计），全部传完",
     "Sent 12 rows as 5 counts; everything is uploaded"),
    (ev.UploadFinished(True, rows=2000, counts=40, left=310),
     "已上传 2000 条记录（40 项统计），还有 310 条下次上传",
     "Sent 2000 rows as 40 counts; 310 left for the next run"),
    (ev.UploadFinished(True, rows=1, counts=1), "已上传 1 条记录（1 项统计），全部传完",
     "Sent 1 row as 1 count; everything is uploaded"),
    (ev.UploadFinished(True), "没有要上传的记录：全部已上传",
     "Nothing to send: every row was already uploaded"),
    (ev.UploadFinished(False, "x: ConnectionError: refused", cause="unreachable"),
     "上传失败：连不上中心服务器，请检查网络", "Upload failed: the central server cannot be "
     "reached; check the network"),
    (ev.UploadFinished(False, "x: HTTP 503", cause="server_error", status=503),
     "上传失败：中心服务器出错（HTTP 503），下次定时上传会再试",
     "Upload failed: the central server has a problem (HTTP 503); the next timed run tries "
     "again"),
    (ev.UploadFinished(False, "boom", cause="something new"),
     "上传失败：自助机程序出错，详见日志", "Upload failed: an error in the kiosk; see its log"),
])
def test_an_upload_result_in_plain_words(tr, finished, zh, en):
    assert summary.upload_line(tr["zh_CN"], False, finished) == zh
    assert summary.upload_line(tr["en"], False, finished) == en


def test_staff_coming_back_later_see_when_it_ended(tr):
    done = ev.UploadFinished(True, rows=3, counts=2, at="14:05")
    assert summary.upload_line(tr["zh_CN"], False, done) == \
        "14:05 已上传 3 条记录（2 项统计），全部传完"


def test_while_it_runs_it_says_so_and_before_nothing(tr):
    assert summary.upload_line(tr["zh_CN"], True, ev.UploadFinished(True)) == \
        "正在上传到中心服务器…"
    assert summary.upload_line(tr["en"], False, None) == ""


def test_every_cause_the_uploader_names_has_words():
    from kiosk.upload import outcome
    assert set(outcome.CAUSES) <= set(summary.UPLOAD_CAUSES)


def test_an_upload_still_running_keeps_the_button_off_after_staff_come_back():
    from kiosk.core.events import Screen
    from kiosk.core.session import Session
    from kiosk.core.session_view import Settings
    from tests.staff_pin import staff_hash, submit_pin

    session = Session(Settings(pin_hash=staff_hash("2580")), now=0.0)
    session.handle(ev.AdminGesture(), 0.0)
    submit_pin(session, "2580", 0.0)
    assert session.view.screen is Screen.ADMIN
    assert any(isinstance(e, ev.RunUpload) for e in session.handle(ev.UploadRequested(), 1.0))
    session.handle(ev.EndSession(), 2.0)
    session.handle(ev.AdminGesture(), 3.0)
    submit_pin(session, "2580", 3.0)
    assert session.view.uploading
    assert not any(isinstance(e, ev.RunUpload) for e in session.handle(ev.UploadRequested(), 4.0))
    done = ev.UploadFinished(True, rows=3, counts=2)
    session.handle(done, 5.0)
    assert not session.view.uploading and session.view.upload_result == done
