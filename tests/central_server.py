"""Test parts for the central server: the real app under uvicorn on 127.0.0.1 port 0 in a
thread, a throwaway PostgreSQL cluster (initdb and pg_ctl in a temporary folder, as the
`postgres` user when the tests run as root), and realistic counts to upload.
"""

from __future__ import annotations

import atexit
import datetime as dt
import itertools
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from central.app import create_app
from central.auth import hash_password, new_token, token_digest
from central.config import CentralConfig
from central.storage import Storage

BACKENDS = ("sqlite", "postgresql")


@dataclass
class Running:
    url: str
    storage: Storage
    config: CentralConfig
    clock: list  # clock[0] is the fleet page's now; tests move it


@contextmanager
def serve(storage: Storage, data_dir: Path, **options):
    """The real server on a free loopback port until the block ends."""
    # No reverse proxy in front unless a test puts one (the default trusts one on 127.0.0.1,
    # where every test client is).
    config = CentralConfig(data_dir=str(data_dir), **{"trusted_proxies": "", **options})
    clock = [dt.datetime.now(dt.timezone.utc)]
    app = create_app(config, storage, clock=lambda: clock[0])
    sock = socket.socket()
    # Accepted connections inherit this; without it a handed-in socket answers each request
    # after the peer's 40 ms delayed ACK (uvicorn sets it only on sockets it opens itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    # proxy_headers off, as `kiosk-central serve` runs it: the app reads X-Forwarded-For itself,
    # from `trusted_proxies` only.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off",
                                           server_header=False, proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()  # connections wait in the socket's backlog until it serves
    try:
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", storage, config, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def sqlite_central(data_dir: Path):
    """The real server on its default SQLite file in `data_dir`, as kiosks upload to it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    storage = Storage.open(CentralConfig(data_dir=str(data_dir)).db_url)
    try:
        with serve(storage, data_dir) as running:
            yield running
    finally:
        storage.close()


def totals(storage: Storage, kiosk_id: str) -> dict[str, int]:
    """What the server counted from one kiosk, per event."""
    storage.fold()
    with storage.db.read() as conn:
        return {event: int(n) for event, n in conn.all(
            "SELECT event, SUM(n) FROM counts WHERE kiosk_id = ? GROUP BY event", (kiosk_id,))}


def batches(storage: Storage, kiosk_id: str) -> list[tuple[str, int, int]]:
    """The batches the server accepted from one kiosk: (id, first seq, last seq)."""
    with storage.db.read() as conn:
        return [tuple(row) for row in conn.all(
            "SELECT batch_id, first_seq, last_seq FROM batches WHERE kiosk_id = ? "
            "ORDER BY first_seq", (kiosk_id,))]


class PostgresCluster:
    """One cluster for the whole test run, made on first use and removed at exit. Tests run
    it without fsync; the ingest benchmark with it, as a real server would."""
    _instance: PostgresCluster | None = None

    def __init__(self, fsync: bool = False) -> None:
        bindir = postgres_bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="central-pg-"))
        self.user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = "postgres" if _has_user("postgres") else "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run([str(bindir / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
                   "-U", "central", "-E", "UTF8", "--locale=C"])
        self._run([str(bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                   str(self.dir / "server.log"), "-w", "-t", "60", "-o",
                   f"-k {self.dir} -c listen_addresses='' -c fsync={'on' if fsync else 'off'} "
                   "-c max_connections=60", "start"])
        self.bindir = bindir
        self._names = itertools.count(1)
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> PostgresCluster:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _run(self, argv: list[str]) -> None:
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.dir)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://central@/{database}?host={self.dir}"

    def new_database(self) -> str:
        import psycopg
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if not self.dir.exists():
            return
        try:
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                       "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def database_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty database of the backend. PostgreSQL is skipped only off CI when it is
    not installed; under CI=true a missing PostgreSQL fails the test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite3'}"
    if postgres_bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (setup.sh installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed (./setup.sh deps installs it)")
    return PostgresCluster.get().new_database()


def add_kiosk(storage: Storage, name: str, library: str = "醴陵市图书馆",
              point: str = "借阅台") -> str:
    token = new_token()
    storage.add_kiosk(name, library, point, token_digest(token))
    return token


def add_user(storage: Storage, name: str, role: str, library: str, password: str) -> None:
    storage.add_user(name, role, library, hash_password(password))


EVENTS = (("checkout", 40), ("checkin", 35), ("session", 30), ("ebook_view", 12),
          ("ebook_qr", 5), ("ebook_download", 4), ("search", 8), ("renew", 3))
FAILURES = (("checkout", "blocked"), ("checkout", "unknown_item"),  # as kiosks journal them
            ("checkin", "unreadable_tag"), ("ebook_download", "expired"))


def day_counts(day: dt.date, rng: random.Random, titles: int = 40) -> list[dict]:
    """One kiosk's day of counts as the uploader sends them: open 8:00 to 20:00, busy at
    opening time and after school."""
    rows = []
    for hour in range(8, 21):
        busy = 1.8 if hour in (9, 16, 17) else 1.0
        for event, mean in EVENTS:
            n = int(rng.uniform(0.3, 1.0) * mean * busy / 4)
            if n == 0:
                continue
            if event.startswith("ebook"):
                for _ in range(min(n, 3)):
                    rows.append(_row(day, hour, event, "ok", f"book:{rng.randrange(titles):06d}",
                                     max(1, n // 3)))
            else:
                rows.append(_row(day, hour, event, "ok" if event != "session" else
                                 rng.choice(("finished", "timeout")), None, n))
        if rng.random() < 0.4:
            event, reason = rng.choice(FAILURES)
            rows.append(_row(day, hour, event, reason, None, rng.randint(1, 3)))
    return rows


def _row(day: dt.date, hour: int, event: str, outcome: str, key: str | None, n: int) -> dict:
    return {"date": day.isoformat(), "hour": hour, "event": event, "outcome": outcome,
            "key": key, "n": n}


def batch(kiosk_id: str, first_seq: int, counts: list[dict], rows: int | None = None) -> dict:
    """A counts batch covering `rows` journal rows from first_seq (default: the sum of n, as a
    kiosk counts them; other rows make a batch the server refuses, see docs/upload.md)."""
    rows = rows if rows is not None else max(1, sum(c["n"] for c in counts))
    return {"kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()), "first_seq": first_seq,
            "last_seq": first_seq + rows - 1, "counts": counts}


PASSWORD = "correct horse battery"


def seed_network(running: Running, days: int = 14, last_day: dt.date = dt.date(2026, 11, 24),
                 seed: int = 7) -> dict[str, str]:
    """Two libraries, four kiosks with two weeks of counts each, an admin and a staff
    account per library, catalogue titles, and heartbeats (one kiosk long silent)."""
    import requests

    storage = running.storage
    kiosks = {"liling-lobby-1": ("醴陵市图书馆", "借阅台"),
              "liling-children": ("醴陵市图书馆", "少儿阅览室"),
              "liling-ebook": ("醴陵市图书馆", "电子阅览室"),
              "village-sanhe": ("三合村图书室", "")}
    tokens = {name: add_kiosk(storage, name, *place) for name, place in kiosks.items()}
    add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
    add_user(storage, "liling", "staff", "醴陵市图书馆", PASSWORD)
    add_user(storage, "sanhe", "staff", "三合村图书室", PASSWORD)
    rng = random.Random(seed)
    names = ["红楼梦", "西游记", "水浒传", "三国演义", "中老年人健康手册", "小熊的旅行",
             "家常菜谱", "唐诗三百首", "=SUM(A1:A9)", "A very long English title about gardens"]
    categories = ["经典名著", "健康养生", "少儿读物", "生活", "诗词"]
    titles = [{"id": f"{i:06d}", "title": names[i % len(names)] + ("" if i < len(names)
                                                                    else f" {i}"),
               "author": "", "category": categories[i % len(categories)]} for i in range(40)]
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        requests.post(f"{running.url}/api/v1/catalogue", headers=headers, timeout=30,
                      json={"kiosk_id": name, "version": "2026-12", "titles": titles}
                      ).raise_for_status()
        seq = 1
        for d in range(days):
            body = batch(name, seq, day_counts(last_day - dt.timedelta(days=d), rng))
            requests.post(f"{running.url}/api/v1/counts", json=body, headers=headers,
                          timeout=30).raise_for_status()
            seq = body["last_seq"] + 1
        if name != "village-sanhe":
            beat = {"kiosk_id": name, "time_utc": "2026-11-24T06:00:00Z", "version": "0.1.0",
                    "boot_id": "b", "clock_synced": True, "uptime_s": 100, "ils": "ok",
                    "devices": {"scanner": {"state": "ok", "detail": "connected"},
                                "rfid": {"state": "fault" if name == "liling-children"
                                         else "ok", "detail": "not plugged in"}},
                    "disk_free_mb": 9000, "unsent_rows": rng.randint(0, 30),
                    "last_upload_utc": None, "last_error": None, "catalogue": "2026-12"}
            requests.post(f"{running.url}/api/v1/heartbeat", json=beat, headers=headers,
                          timeout=30).raise_for_status()
    return tokens
