"""The real central server (central/, SQLite) on 127.0.0.1 port 0, in a thread: for the
uploader's end-to-end test and bench/catch_up.py. Its uvicorn loop runs on that thread."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import uvicorn

from central.app import create_app
from central.auth import new_token, token_digest
from central.config import CentralConfig
from central.storage import Storage


class RealCentral:
    def __init__(self, data_dir: Path) -> None:
        self.config = CentralConfig(data_dir=str(data_dir))
        data_dir.mkdir(parents=True, exist_ok=True)
        self.storage = Storage.open(self.config.db_url)
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(
            create_app(self.config, self.storage), log_config=None, log_level="warning",
            access_log=False, server_header=False))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)

    def add_kiosk(self, kiosk_id: str, library: str = "醴陵市图书馆",
                  service_point: str = "一楼大厅") -> str:
        token = new_token()
        self.storage.add_kiosk(kiosk_id, library, service_point, token_digest(token))
        return token

    def totals(self, kiosk_id: str) -> dict[str, int]:
        with self.storage.db.read() as conn:
            return {event: int(n) for event, n in conn.all(
                "SELECT event, SUM(n) FROM counts WHERE kiosk_id = ? GROUP BY event",
                (kiosk_id,))}

    def batches(self, kiosk_id: str) -> list[tuple[str, int, int]]:
        with self.storage.db.read() as conn:
            return [tuple(row) for row in conn.all(
                "SELECT batch_id, first_seq, last_seq FROM batches WHERE kiosk_id = ? "
                "ORDER BY first_seq", (kiosk_id,))]

    def __enter__(self) -> RealCentral:
        self._thread.start()
        started = threading.Event()
        # uvicorn sets `started` once it listens; poll it rather than sleep a guess.
        while not self._server.started and self._thread.is_alive():
            started.wait(0.02)
        if not self._server.started:
            raise RuntimeError("the central server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()
        self.storage.close()
