"""A fleet catching up at once: 300 kiosks each post a batch of 3,000 counts at the same moment
to the real central server (`kiosk-central serve`, uvicorn in a process of its own), on SQLite
and then PostgreSQL; the same kiosks against a minimal FastAPI endpoint doing no storage, under
the same uvicorn settings, in the same run.

The kiosks are the kiosk's own uploader client (kiosk/upload/sender.py: its timeouts, retries,
back-off and Retry-After), 300 threads spread over a few processes so that the senders are not
what limits a fast server. Measured per attempt (latency, status) and per kiosk (time until its
batch was accepted). Throughput is batches accepted per second from the start to the last one.
Targets (issue 18): no 5xx but 503 with Retry-After, p99 under 5 s, throughput at least half
the baseline's. Run: `.venv/bin/python -m bench.central_load [--kiosks 300] [--counts 3000]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import multiprocessing
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.results import write_section  # noqa: E402
from central import gc_tuning  # noqa: E402
from central.config import CentralConfig  # noqa: E402
from central.schemas import CountsAnswer, CountsBatch  # noqa: E402
from central.storage import Storage  # noqa: E402
from common.toml_options import default_of  # noqa: E402
from kiosk.config import CentralSection  # noqa: E402
from kiosk.upload.sender import Central, RetryPolicy  # noqa: E402
from tests.central_server import (  # noqa: E402
    PostgresCluster,
    add_kiosk,
    batch,
    day_counts,
    postgres_bindir,
)

ROOT = Path(__file__).resolve().parent.parent
SENDER_PROCESSES = 3
FIRST_DAY = dt.date(2026, 8, 1)
P99_TARGET_S = 5.0
RATIO_TARGET = 0.5


# The baseline: the same path, body and answer, under the same uvicorn settings as
# `kiosk-central serve` (central/cli.py run_serve); no token check, no storage.
def baseline_app(parse: str) -> FastAPI:
    app = FastAPI()
    if parse == "model":
        @app.post("/api/v1/counts", response_model=CountsAnswer)
        def counts(batch: CountsBatch) -> CountsAnswer:
            return CountsAnswer(batch_id=batch.batch_id, duplicate=False)
    else:
        @app.post("/api/v1/counts")
        async def counts_json(request: Request) -> dict:
            body = json.loads(await request.body())
            return {"batch_id": body["batch_id"], "duplicate": False}

    @app.get("/api/v1/health")
    def health() -> dict:
        return {"ok": True}
    return app


def run_baseline(parse: str, port: int) -> None:
    import uvicorn

    from common import logsetup
    logsetup.configure("INFO")
    app = baseline_app(parse)
    gc_tuning.tune()  # as `kiosk-central serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None,
                proxy_headers=False, server_header=False)


@dataclass(frozen=True)
class Attempt:
    kiosk: int
    started: float   # time.monotonic(), the same clock in every process
    ended: float
    status: int | None  # None: no answer (timed out, connection refused or reset)


def kiosk_batch(kiosk: str, counts: int, seed: int) -> dict:
    """A kiosk's batch after weeks offline: `counts` count rows over consecutive days."""
    rng = random.Random(seed)
    rows: list[dict] = []
    day = FIRST_DAY
    while len(rows) < counts:
        rows += day_counts(day, rng, titles=2000)
        day += dt.timedelta(days=1)
    return batch(kiosk, 1, rows[:counts])


def senders(url: str, kiosks: list[tuple[int, str]], counts: int, start_at: float,
            out: multiprocessing.Queue) -> None:
    """One sender process: a thread per kiosk, all posting at `start_at`."""
    import threading
    logging.basicConfig(level=logging.ERROR)
    bodies = {k: kiosk_batch(f"kiosk-{k:03d}", counts, k) for k, _token in kiosks}
    attempts: list[Attempt] = []
    failures: list[str] = []
    timeout = (default_of(CentralSection, "connect_timeout_s"),
               default_of(CentralSection, "timeout_s"))
    policy = RetryPolicy(default_of(CentralSection, "retries"),
                         default_of(CentralSection, "backoff_s"),
                         default_of(CentralSection, "retry_budget_s"))

    def kiosk(number: int, token: str) -> None:
        with Central(url, token, timeout=timeout, policy=policy) as central:
            session = central._session  # timed, every attempt the uploader makes
            real = session.request

            def timed(*args, **kwargs):
                started = time.monotonic()
                try:
                    reply = real(*args, **kwargs)
                except requests.RequestException:
                    attempts.append(Attempt(number, started, time.monotonic(), None))
                    raise
                attempts.append(Attempt(number, started, time.monotonic(), reply.status_code))
                return reply

            session.request = timed  # type: ignore[method-assign]
            time.sleep(max(0.0, start_at - time.monotonic()))
            try:
                central.post("/api/v1/counts", bodies[number])
            except Exception as e:  # noqa: BLE001 - a kiosk that gave up is a result
                failures.append(f"kiosk {number}: {e}")

    threads = [threading.Thread(target=kiosk, args=k) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((attempts, failures, sum(c["n"] for b in bodies.values() for c in b["counts"])))


@dataclass(frozen=True)
class Outcome:
    name: str
    attempts: list[Attempt]
    failures: list[str]
    started: float
    load: tuple[float, float, float]
    folded_after_s: float | None = None  # from the last answer until every batch was folded
    counted_right: bool | None = None    # the totals are what the kiosks sent, exactly

    @property
    def accepted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == 200]

    def statuses(self) -> Counter:
        return Counter("no answer" if a.status is None else a.status for a in self.attempts)

    @property
    def fivexx(self) -> int:
        return sum(1 for a in self.attempts if a.status is not None and a.status >= 500
                   and a.status != 503)

    @property
    def throughput(self) -> float:
        done = self.accepted
        return len(done) / (max(a.ended for a in done) - self.started) if done else 0.0

    def latency(self, q: float, only_accepted: bool = False) -> float:
        chosen = self.accepted if only_accepted else self.attempts
        return percentile([a.ended - a.started for a in chosen], q)

    def to_accepted(self, q: float) -> float:
        """The kiosks' wait from the start to their batch accepted, retries and all."""
        return percentile([a.ended - self.started for a in self.accepted], q)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], log: Path, url: str, root: Path = ROOT) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(root)}
    server = subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(log, "ab"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start-up; see {log}")
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not answer in 60 s; see {log}")


def fleet(name: str, argv: list[str], port: int, tokens: list[str], counts: int,
          log: Path, db_url: str | None = None, root: Path = ROOT) -> Outcome:
    url = f"http://127.0.0.1:{port}"
    server = start_server(argv, log, url, root)
    try:
        out: multiprocessing.Queue = multiprocessing.Queue()
        numbered = list(enumerate(tokens))
        start_at = time.monotonic() + 5 + len(tokens) * 0.03  # time to build the bodies
        procs = [multiprocessing.Process(target=senders, args=(
            url, numbered[i::SENDER_PROCESSES], counts, start_at, out))
            for i in range(SENDER_PROCESSES)]
        for p in procs:
            p.start()
        attempts: list[Attempt] = []
        failures: list[str] = []
        sent_n = 0
        for _ in procs:
            got, failed, n = out.get()
            attempts += got
            failures += failed
            sent_n += n
        for p in procs:
            p.join()
        load = os.getloadavg()
        folded_after_s = counted_right = None
        if db_url is not None:
            last = max((a.ended for a in attempts if a.status == 200), default=time.monotonic())
            folded_after_s, counted_right = watch_fold(db_url, last, sent_n)
    finally:
        server.terminate()
        server.wait(30)
    return Outcome(name, attempts, failures, start_at, load, folded_after_s, counted_right)


def watch_fold(db_url: str, last_answer: float, sent_n: int) -> tuple[float, bool]:
    """Waits (from outside, reading the database) for the server to fold every accepted
    batch into the totals; then whether the totals hold exactly what the kiosks sent."""
    storage = Storage.open(db_url)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with storage.db.read() as conn:
                if not conn.value("SELECT COUNT(*) FROM batch_counts WHERE folded = 0"):
                    break
            time.sleep(0.2)
        folded_after_s = time.monotonic() - last_answer
        with storage.db.read() as conn:
            counted = int(conn.value("SELECT COALESCE(SUM(n), 0) FROM counts"))
    finally:
        storage.close()
    return folded_after_s, counted == sent_n


def kiosks_in(url: str, count: int) -> list[str]:
    storage = Storage.open(url)
    try:
        return [add_kiosk(storage, f"kiosk-{k:03d}", library=f"library-{k % 30}")
                for k in range(count)]
    finally:
        storage.close()


def central_argv(folder: Path, db_url: str, port: int, gate: dict[str, float]) -> list[str]:
    config = folder / "central.toml"
    config.write_text(f'[central]\ndata_dir = "{folder}"\n' + "".join(
        f"{name} = {value}\n" for name, value in gate.items()), encoding="utf-8")
    return [sys.executable, "-m", "central.cli", "serve", "--config", str(config),
            "--db", db_url, "--port", str(port), "--log-level", "INFO"]


def measure_before(args: argparse.Namespace, folder: Path, port: int,
                   log: Path) -> list[Outcome]:
    """The same fleet against the server of another checkout (the code before a change)."""
    done = []
    sqlite_url = f"sqlite:///{folder / 'before.sqlite3'}"
    done.append(fleet("before: SQLite", central_argv(folder, sqlite_url, port, {}), port,
                      kiosks_in(sqlite_url, args.kiosks), args.counts, log, sqlite_url,
                      args.before))
    if postgres_bindir() is not None:
        cluster = PostgresCluster(fsync=True)
        try:
            pg_url = cluster.new_database()
            done.append(fleet("before: PostgreSQL", central_argv(folder, pg_url, port, {}),
                              port, kiosks_in(pg_url, args.kiosks), args.counts, log, pg_url,
                              args.before))
        finally:
            cluster.stop()
    return done


def baseline_argv(parse: str, port: int) -> list[str]:
    return [sys.executable, "-m", "bench.central_load", "--baseline-server", parse,
            "--port", str(port)]


def row(outcome: Outcome, baseline: Outcome | None) -> str:
    statuses = outcome.statuses()
    ratio = outcome.throughput / baseline.throughput if baseline else None
    others = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)
                       if k not in (200, 503))
    return (f"| {outcome.name} | {len(outcome.accepted)} | {statuses.get(503, 0)} | "
            f"{outcome.fivexx} | {others or '-'} | {outcome.latency(50):.2f} s | "
            f"{outcome.latency(99):.2f} s | {outcome.to_accepted(99):.1f} s | "
            f"{outcome.throughput:.1f} | {'' if ratio is None else f'{ratio:.2f}'} | "
            f"{_folded(outcome)} | {outcome.load[0]:.1f} |")


def _folded(outcome: Outcome) -> str:
    if outcome.counted_right is None:
        return ""
    right = "exact" if outcome.counted_right else "WRONG TOTALS"
    if outcome.name.startswith("before"):  # added up in the upload's own transaction
        return f"in the upload, {right}"
    return f"{outcome.folded_after_s:.1f} s, {right}"


def verdict(outcome: Outcome, baseline: Outcome) -> str:
    ratio = outcome.throughput / baseline.throughput
    checks = [("no 5xx", outcome.fivexx == 0 and not outcome.failures),
              ("totals exact", bool(outcome.counted_right)),
              (f"p99 < {P99_TARGET_S:.0f} s", outcome.latency(99) < P99_TARGET_S),
              (f"ratio ≥ {RATIO_TARGET}", ratio >= RATIO_TARGET)]
    return f"{outcome.name}: " + ", ".join(
        f"{what} {'meets' if ok else 'MISSES'}" for what, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=300)
    parser.add_argument("--counts", type=int, default=3000)
    parser.add_argument("--no-write", action="store_true", help="print; leave RESULTS.md")
    parser.add_argument("--only", choices=("baseline", "sqlite", "postgresql"), action="append",
                        help="run only these (repeat); implies --no-write")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also the server of this checkout (the code before), same load")
    parser.add_argument("--slots", type=int, help="ingest_slots (default: the server's)")
    parser.add_argument("--wait", type=float, help="ingest_wait_s (default: the server's)")
    parser.add_argument("--baseline-server", choices=("model", "json"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline(args.baseline_server, args.port)
        return 0
    load_before = os.getloadavg()
    only = set(args.only or ("baseline", "sqlite", "postgresql"))
    gate = {k: v for k, v in (("ingest_slots", args.slots), ("ingest_wait_s", args.wait))
            if v is not None}
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        log = folder / "servers.log"
        port = free_port()
        for parse, name in (("json", "baseline: JSON parsed, nothing else"),
                            ("model", "baseline: the batch model validated, no storage")):
            if "baseline" in only:
                    results.append(fleet(name, baseline_argv(parse, port), port,
                                     ["x"] * args.kiosks, args.counts, log))
        if args.before is not None:
            results += measure_before(args, folder, port, log)
        sqlite_url = f"sqlite:///{folder / 'central.sqlite3'}"
        if "sqlite" in only:
            results.append(fleet("kiosk-central serve, SQLite (WAL, synchronous=FULL)",
                                 central_argv(folder, sqlite_url, port, gate), port,
                                 kiosks_in(sqlite_url, args.kiosks), args.counts, log,
                                 sqlite_url))
        if "postgresql" not in only:
            pass
        elif postgres_bindir() is not None:
            cluster = PostgresCluster(fsync=True)
            try:
                pg_url = cluster.new_database()
                results.append(fleet("kiosk-central serve, PostgreSQL (fsync on)",
                                     central_argv(folder, pg_url, port, gate), port,
                                     kiosks_in(pg_url, args.kiosks), args.counts, log,
                                     pg_url))
            finally:
                cluster.stop()
        else:
            print("PostgreSQL is not installed: only SQLite measured", file=sys.stderr)
    if args.only:
        for outcome in results:
            print(row(outcome, None), outcome.failures[:2])
        return 0
    raw, model, *servers = results
    before = [s for s in servers if s.name.startswith("before")]
    servers = [s for s in servers if s not in before]
    defaults = CentralConfig()
    body_kb = len(json.dumps(kiosk_batch("kiosk-000", args.counts, 0))) / 1024
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, CPython "
        f"{platform.python_version()}; load average {load_before[0]:.1f} before the run "
        "(the kiosks' senders share the machine with the server). "
        f"{args.kiosks} kiosks post one batch of {args.counts:,} counts each ({body_kb:.0f} KiB "
        "of JSON) at the same moment, over loopback, to a server in a process of its own "
        "(one uvicorn worker, as `kiosk-central serve` runs). The kiosks are the kiosk's "
        "uploader client (30 s timeout, 5 retries with back-off, Retry-After honoured) in "
        f"{SENDER_PROCESSES} processes. Gate: ingest_slots = {defaults.ingest_slots}, "
        f"ingest_wait_s = {defaults.ingest_wait_s}.",
        "",
        "| server | accepted | 503 (Retry-After) | other 5xx | no answer / other | "
        "p50 attempt | p99 attempt | p99 until accepted | batches/s | ratio to the model "
        "baseline | all folded, after the last answer | load after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        row(raw, None), row(model, None)]
    lines += [row(s, model) for s in before + servers]
    if before:
        lines += ["", f"\"before\": the same fleet against the server of {args.before} (the "
                  "code before these changes), in the same run."]
    lines += [""] + [f"- {verdict(s, model)} (ratio to the JSON-only baseline: "
                     f"{s.throughput / raw.throughput:.2f})" for s in servers]
    lines += [
        "",
        "The model baseline is the least a FastAPI endpoint taking this body does: FastAPI "
        "validates the same `CountsBatch` model before any code of ours runs; no token check, "
        "no storage. The JSON-only one reads the body, parses it and answers. Neither has a "
        "gate: all the kiosks' requests are in the server at once, which is why their p99 is "
        "their whole run. Against the JSON-only baseline the ratio (in brackets above) misses "
        "0.5: validating 3,000 rows (the contract's pydantic model, the same in both) is most "
        "of an upload's cost, and storing it little. \"All folded\": the server adds the "
        "stored batches into the figures' totals off the request path; the bench reads the "
        "database from "
        "outside until nothing waits, then checks the totals are exactly what the kiosks "
        "sent. p99 attempt counts every answer, 503s included; \"until accepted\" is a "
        "kiosk's wait from the start, its retries included."]
    for outcome in results:
        for failure in outcome.failures[:3]:
            lines.append(f"- {outcome.name}: gave up: {failure}")
    print("\n".join(lines))
    if not args.no_write:
        write_section("Central server under a fleet's catch-up (bench/central_load.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
