"""Figures that are right (issue 18), against the real server on loopback with counts uploaded
through the real API, on SQLite and PostgreSQL: a lending counts once whether it happened
online or offline, older kiosks' replays count as neither loan nor return and are no failure,
receipts are no failure, every outcome and event a kiosk can send reads in Chinese, and the
half-year table has the library's columns with a subtotal per library, from the page and from
`kiosk-central report` run as a command."""

import ast
import csv
import datetime as dt
import io
import re
import subprocess
import sys

import pytest
import requests

from central import tally
from central.figures import Selection, gather
from central.i18n import Translator
from central.labels import EVENTS, OUTCOMES, event_label, outcome_label
from central.storage import Storage
from tests.central_server import BACKENDS, PASSWORD, add_kiosk, add_user, batch, database_url, serve
from tests.conftest import ROOT
from tests.test_central_pages import signed_in

DAY1, DAY2 = "2026-03-01", "2026-03-02"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
LILING, SANHE = "醴陵市图书馆", "三合村图书室"


def row(day, hour, event, outcome, n, key=None):
    return {"date": day, "hour": hour, "event": event, "outcome": outcome, "key": key, "n": n}


# What each kiosk's journal holds, as its uploader counts it.
UPLOADS = {
    # A village room lends 5 books and takes 2 back while the ILS is away; the next day the
    # replays go through, one loan refused. Receipts are shown and printed, one print fails.
    "village": [row(DAY1, 10, "intent", "checkout", 5), row(DAY1, 10, "checkout", "offline", 5),
                row(DAY1, 11, "intent", "checkin", 2), row(DAY1, 11, "checkin", "offline", 2),
                row(DAY1, 10, "session", "ok", 6), row(DAY1, 10, "receipt", "shown", 3),
                row(DAY1, 10, "receipt", "printed", 2),
                row(DAY1, 10, "receipt", "print_failed", 1),
                row(DAY2, 9, "checkout", "replayed", 4),
                row(DAY2, 9, "checkout", "replay_refused", 1),
                row(DAY2, 9, "checkin", "replayed", 2)],
    # Online: a lost reply found done later, refusals, renewals, e-books, staff and service.
    "lobby": [row(DAY1, 9, "intent", "checkout", 14), row(DAY1, 9, "checkout", "ok", 10),
              row(DAY1, 9, "checkout", "unknown", 1), row(DAY1, 9, "checkout", "blocked", 2),
              row(DAY1, 9, "checkout", "offline_limit", 1),
              row(DAY1, 12, "checkout", "reconciled", 1), row(DAY1, 9, "checkin", "ok", 7),
              row(DAY1, 9, "renew", "ok", 3), row(DAY1, 9, "renew", "on_loan", 1),
              row(DAY1, 9, "session", "timeout", 5),
              row(DAY1, 9, "ebook_view", "ok", 4, "book:000001"),
              row(DAY1, 9, "ebook_qr", "ok", 2, "book:000001"),
              row(DAY1, 9, "ebook_qr", "server_unavailable", 1, "book:000001"),
              row(DAY1, 9, "ebook_download", "ok", 1, "book:000001"),
              row(DAY1, 9, "ebook_download", "expired", 1),
              row(DAY1, 9, "ebook_download", "in_app_browser", 2, "book:000001"),
              row(DAY1, 9, "search", "abandoned", 2), row(DAY1, 9, "admin", "pin_wrong", 1),
              row(DAY1, 9, "service", "out_of_service", 1)],
    # An older kiosk: its replays say neither loan nor return.
    "old": [row(DAY1, 10, "checkout", "offline", 4), row(DAY2, 9, "offline_replay", "sent", 3),
            row(DAY2, 9, "offline_replay", "refused", 1), row(DAY2, 9, "session", "ok", 2)],
}
PLACES = {"village": (SANHE, ""), "lobby": (LILING, "借阅台"), "old": (LILING, "少儿阅览室")}


@pytest.fixture(scope="module", params=BACKENDS)
def network(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    url = database_url(request.param, tmp)
    storage = Storage.open(url)
    try:
        with serve(storage, tmp) as running:
            upload(running)
            running.db_url = url
            yield running
    finally:
        storage.close()


def upload(running):
    """The kiosks, their uploads through the API, an administrator and a village's staff."""
    add_user(running.storage, "admin", "admin", LILING, PASSWORD)
    add_user(running.storage, "sanhe", "staff", SANHE, PASSWORD)
    for name, counts in UPLOADS.items():
        token = add_kiosk(running.storage, name, *PLACES[name])
        requests.post(f"{running.url}/api/v1/counts", json=batch(name, 1, counts),
                      headers={"Authorization": f"Bearer {token}"}, timeout=30
                      ).raise_for_status()


def figures_of(network, *kiosks):
    storage = network.storage
    return gather(storage, Selection(dt.date(2026, 1, 1), dt.date(2026, 6, 30), kiosks),
                  storage.kiosks())


def test_a_lending_counts_once_online_or_offline(network):
    village = figures_of(network, "village").total
    assert (village.loans, village.returns) == (4, 2)  # the replays, not the offline rows too
    lobby = figures_of(network, "lobby").total
    assert (lobby.loans, lobby.returns, lobby.renewals) == (11, 7, 3)  # ok + reconciled
    old = figures_of(network, "old").total
    assert (old.loans, old.returns, old.sessions) == (0, 0, 2)
    per_day = {d.label: (d.loans, d.returns)
               for d in figures_of(network, "village", "lobby").per_day if d.loans or d.returns}
    assert per_day == {DAY1: (11, 7), DAY2: (4, 2)}


def test_failures_are_only_what_failed(network):
    figures = figures_of(network, "village", "lobby", "old")
    assert {(f.event, f.outcome): f.n for f in figures.failures} == {
        ("checkout", "blocked"): 2, ("checkout", "offline_limit"): 1,
        ("checkout", "replay_refused"): 1, ("renew", "on_loan"): 1,
        ("receipt", "print_failed"): 1, ("ebook_qr", "server_unavailable"): 1,
        ("ebook_download", "expired"): 1, ("ebook_download", "in_app_browser"): 2}
    assert figures_of(network, "lobby").total.downloads == 1  # an in-app visit is none
    assert [(f.outcome, f.n) for f in figures.old_replays] == [("sent", 3), ("refused", 1)]


def test_the_page_names_everything_in_chinese(network):
    session = signed_in(network, "admin")
    page = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    assert re.search(r'id="total-loans">15<', page) and re.search(r'id="total-returns">9<', page)
    assert re.search(r'id="total-loans-returns">24<', page)
    assert re.search(r'id="total-renewals">3<', page) and re.search(r'id="total-qr-scans">2<', page)
    assert "自助机使用次数" in page and "到馆" not in page
    failures = page.rsplit("失败原因", 1)[1]
    assert "<td>凭条</td><td>打印失败</td>" in failures and "已显示" not in failures
    assert "<td>借书</td><td>离线补传被拒</td>" in failures
    assert "<td>电子书下载</td><td>在微信或QQ内打开，已提示改用浏览器</td>" in failures
    old = page.split('id="old-replays"')[1]
    assert "旧版自助机补传的离线业务" in old and "<td>已补传至图书馆系统</td>" in old
    assert not re.search(r"<td>[a-z_ ]+</td>", page)  # no outcome key shown as it came


def report_rows(raw):
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


HEADER = ["图书馆", "服务点", "自助机使用次数", "借书", "还书", "借还合计", "续借", "电子书浏览",
          "扫码", "电子书下载"]
# Library, point, sessions, loans, returns, 借还, renewals, views, QR scans, downloads.
BODY = [[SANHE, "（未指定服务点）", "6", "4", "2", "6", "0", "0", "0", "0"],
        [SANHE, "小计", "6", "4", "2", "6", "0", "0", "0", "0"],
        [LILING, "借阅台", "5", "11", "7", "18", "3", "4", "2", "1"],
        [LILING, "少儿阅览室", "2", "0", "0", "0", "0", "0", "0", "0"],
        [LILING, "小计", "7", "11", "7", "18", "3", "4", "2", "1"],
        ["合计", "", "13", "15", "9", "24", "3", "4", "2", "1"]]


def test_the_report_has_the_half_years_columns_and_subtotals(network):
    session = signed_in(network, "admin")
    rows = report_rows(session.get(f"{network.url}/figures/report.csv", params=PERIOD,
                                   timeout=30).content)
    assert rows[2] == HEADER and rows[3:] == BODY
    one = report_rows(session.get(f"{network.url}/figures/report.csv", timeout=30,
                                  params={**PERIOD, "library": LILING}).content)
    assert one[3:] == [BODY[2], BODY[3], ["合计", "", *BODY[4][2:]]]  # one library: no subtotal
    page = session.get(f"{network.url}/figures", params=PERIOD, timeout=10).text
    assert page.count('class="total subtotal"') == 2


def test_an_unknown_library_is_refused_on_the_page(network):
    session = signed_in(network, "admin")
    answer = session.get(f"{network.url}/figures", timeout=10,
                         params={**PERIOD, "library": "醴陵图书馆"})
    assert answer.status_code == 404
    assert "没有名为 醴陵图书馆 的图书馆" in answer.text
    assert 'id="report"' not in answer.text and 'id="total-loans"' not in answer.text
    download = session.get(f"{network.url}/figures/report.csv", timeout=10,
                           params={**PERIOD, "library": "醴陵图书馆"})
    assert download.status_code == 404
    # Staff of another library cannot reach one they do not see, nor learn it exists.
    sanhe = signed_in(network, "sanhe").get(f"{network.url}/figures", timeout=10,
                                            params={**PERIOD, "library": LILING})
    assert sanhe.status_code == 404 and "借阅台" not in sanhe.text


def kiosk_central(*argv):
    return subprocess.run([sys.executable, "-m", "central.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_report_command(network, tmp_path):
    out = tmp_path / "h1.csv"
    done = kiosk_central("report", "--from", "2026-01-01", "--to", "2026-06-30", "-o", str(out),
                         "--db", network.db_url)
    assert done.returncode == 0, done.stderr
    rows = report_rows(out.read_bytes())
    assert rows[2] == HEADER and rows[3:] == BODY
    assert "13 kiosk sessions, 15 loans, 9 returns, 3 renewals" in done.stderr
    assert "4 offline transactions replayed by older kiosks" in done.stderr
    refused = kiosk_central("report", "--from", "2026-01-01", "--to", "2026-06-30",
                            "--library", "醴陵图书馆", "-o", str(tmp_path / "x.csv"),
                            "--db", network.db_url)
    wrong_kiosk = kiosk_central("report", "--from", "2026-01-01", "--to", "2026-06-30",
                                "--kiosk", "zz", "-o", str(tmp_path / "x.csv"),
                                "--db", network.db_url)
    assert refused.returncode == wrong_kiosk.returncode == 2
    assert "no library named 醴陵图书馆" in refused.stderr
    assert not (tmp_path / "x.csv").exists()


# --- every word a kiosk can send ------------------------------------------------------------

def kiosk_words():
    """Every event and outcome the kiosk journals (and so uploads): the enums of its
    circulation, reconciler and download server, and every word its code journals as it is
    (read with `ast`, so a new one cannot be missed)."""
    from kiosk.core.outcomes import Outcome, Reason, Transaction
    from kiosk.ebooks.download_server import IN_APP_BROWSER, REFUSALS
    from kiosk.ils import reconcile
    from kiosk.journal.schema import INTENT
    from kiosk.upload.counts import event_name, outcome_name

    events = {t.value for t in Transaction} | {INTENT}
    outcomes = {o.value for o in (*Outcome, *Reason)} | set(REFUSALS) | {IN_APP_BROWSER}
    outcomes |= {reconcile.DONE, reconcile.NOT_DONE}
    for path in (ROOT / "kiosk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                words = [a.value for a in node.args if isinstance(a, ast.Constant)
                         and isinstance(a.value, str)]
                if name == "JournalAppend" or (name == "append" and "journal" in
                                               ast.unparse(node.func)):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant):
                        events.add(first.value)
                    outcomes.update(_strings(node.args[1:2]))
                elif name in ("close", "_note_service", "settle", "Replayed", "QrShown"):
                    outcomes.update(w for w in words if re.fullmatch(r"[a-z_ ]+", w))
            elif isinstance(node, ast.Assign):
                outcomes.update(_strings(_assigned(node, "outcome")))
    outcomes -= {t.value for t in Transaction}  # an intent's: its transaction, an event
    return ({event_name(e) for e in events}, {outcome_name(o) for o in outcomes})


def _assigned(node, name):
    """The values `node` assigns to `name`, also as one of a tuple (`a, b = "x", "y"`)."""
    for target in node.targets:
        if getattr(target, "id", "") == name:
            yield node.value
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            yield from (v for t, v in zip(target.elts, node.value.elts)
                        if getattr(t, "id", "") == name)


def _strings(nodes):
    return {n.value for node in nodes for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_every_event_and_outcome_a_kiosk_sends_reads_in_chinese():
    events, outcomes = kiosk_words()
    assert {"checkout", "receipt", "session", "intent", "offline_replay"} <= events
    assert {"blocked", "reconciled", "shown", "timeout", "expired", "sent",
            "server_unavailable"} <= outcomes
    assert sorted(events - set(EVENTS)) == [] and sorted(outcomes - set(OUTCOMES)) == []
    t = Translator().bound("zh_CN")
    for word in (*events, *outcomes, *tally.FAILURES, "replayed", "replay_refused"):
        label = event_label(t, word) if word in events else outcome_label(t, word)
        assert re.search(r"[\u4e00-\u9fff]", label), (word, label)


def test_every_transaction_outcome_is_a_count_a_failure_or_pending():
    _events, outcomes = kiosk_words()
    from kiosk.core.outcomes import Reason
    transaction = {r.value for r in Reason} | {"ok", "offline", "reconciled",
                                               "reconciled_not_done", "checked_by_staff",
                                               "replayed", "replay_refused"}
    assert transaction <= outcomes | {"replayed", "replay_refused"}
    for event in tally.TRANSACTIONS:
        done = tally.COUNTED[{"checkout": "loans", "checkin": "returns",
                              "renew": "renewals"}[event]][1]
        for outcome in transaction:
            kinds = [outcome in done, tally.is_failure(event, outcome),
                     outcome in tally.PENDING]
            assert kinds.count(True) == 1, (event, outcome, kinds)
    assert not tally.is_failure("receipt", "shown") and tally.is_failure("receipt",
                                                                          "print_failed")
    assert not any(tally.is_failure("offline_replay", o) for o in ("sent", "refused"))
