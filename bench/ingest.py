"""Central server ingest throughput: batches of counts per second, on SQLite and PostgreSQL.

The real server (uvicorn on a loopback port, in this process) takes batches of 150 count rows
(a busy kiosk-day: every hour's checkouts, returns, sessions, e-book titles and failures),
from one kiosk at a time and from 8 kiosks at once, each kiosk on its own keep-alive
connection. SQLite runs with synchronous=FULL; PostgreSQL (a throwaway cluster, as the tests
make it) with fsync on. Run: `.venv/bin/python -m bench.ingest [--batches N]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.results import write_section  # noqa: E402
from central.storage import Storage  # noqa: E402
from tests.central_server import (  # noqa: E402
    PostgresCluster,
    add_kiosk,
    batch,
    day_counts,
    postgres_bindir,
    serve,
)

ROWS = 150


def batches_for(kiosk: str, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out, seq = [], 1
    # The days up to today: the server refuses dates far from its clock (docs/upload.md).
    first_day = dt.date.today() - dt.timedelta(days=count)
    for d in range(count):
        rows = day_counts(first_day + dt.timedelta(days=d), rng, titles=400)
        while len(rows) < ROWS:  # fill with more e-book titles, as a busy day has
            rows.append({**rng.choice(rows[:10]), "event": "ebook_view", "outcome": "ok",
                         "key": f"book:{rng.randrange(2000):06d}", "n": 1})
        body = batch(kiosk, seq, rows[:ROWS])
        seq = body["last_seq"] + 1
        out.append(body)
    return out


def send_all(url: str, token: str, bodies: list[dict]) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for body in bodies:
            answer = session.post(f"{url}/api/v1/counts", json=body, timeout=60)
            if answer.status_code != 200 or answer.json()["duplicate"]:
                raise SystemExit(f"ingest failed: {answer.status_code} {answer.text[:200]}")


def measure(url_of_db: str, folder: Path, batches: int, kiosks: int) -> tuple[float, float]:
    storage = Storage.open(url_of_db)
    try:
        with serve(storage, folder) as running:
            token = add_kiosk(storage, "solo")
            work = batches_for("solo", batches, 1)
            send_all(running.url, token, work[:5])  # warm up: connections, first pages
            started = time.perf_counter()
            send_all(running.url, token, work[5:])
            solo = (len(work) - 5) / (time.perf_counter() - started)

            per_kiosk = batches // kiosks
            jobs = []
            for k in range(kiosks):
                name = f"kiosk-{k}"
                jobs.append((add_kiosk(storage, name), batches_for(name, per_kiosk, 10 + k)))
            threads = [threading.Thread(target=send_all, args=(running.url, t, b))
                       for t, b in jobs]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            many = per_kiosk * kiosks / (time.perf_counter() - started)
    finally:
        storage.close()
    return solo, many


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--kiosks", type=int, default=8)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        results.append(("SQLite (WAL, synchronous=FULL)",
                        *measure(f"sqlite:///{folder / 'central.sqlite3'}", folder,
                                 args.batches, args.kiosks)))
        if postgres_bindir() is not None:
            cluster = PostgresCluster(fsync=True)
            try:
                results.append(("PostgreSQL (fsync on, unix socket)",
                                *measure(cluster.new_database(), folder, args.batches,
                                         args.kiosks)))
            finally:
                cluster.stop()
        else:
            print("PostgreSQL is not installed: only SQLite measured", file=sys.stderr)
    lines = [f"Machine: {platform.machine()}, {platform.python_implementation()} "
             f"{platform.python_version()}; {args.batches} batches of {ROWS} count rows "
             "through the real server over loopback HTTP (the senders run in the server's "
             "own process, so they share its two cores and its GIL: a floor, not a ceiling).",
             "",
             "| database | one kiosk (batches/s) | rows/s | "
             f"{args.kiosks} kiosks at once (batches/s) | rows/s |", "|---|---|---|---|---|"]
    for name, solo, many in results:
        lines.append(f"| {name} | {solo:.0f} | {solo * ROWS:,.0f} | {many:.0f} | "
                     f"{many * ROWS:,.0f} |")
    lines += ["", "A kiosk at 1,500 transactions a day sends one such batch a day or less, "
              "so one server takes the uploads of thousands of kiosks; after 90 days offline "
              "a kiosk's catch-up is a few hundred batches, seconds of the server's time."]
    print("\n".join(lines))
    write_section("Central server ingest (bench/ingest.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
