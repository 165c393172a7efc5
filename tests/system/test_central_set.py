"""The central server from its own set only: a fresh virtualenv made as `./setup.sh central`
makes it (requirements-central.txt, with pip's configured index), then `kiosk-central serve`
answers its health check, and Kivy is not there to import.

Slow (half a minute, pip's downloads aside): marker `system`, with `./setup.sh system-test`.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def _health(port: int, server: subprocess.Popen, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health",
                                        timeout=5) as reply:
                return json.loads(reply.read())
        except OSError:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.2)


def test_the_central_server_runs_from_its_own_set(tmp_path):
    venv = tmp_path / "venv"
    made = subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && '
                           f'make_venv "{venv}" requirements-central.txt'],
                          cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    python = venv / "bin" / "python"
    kivy = subprocess.run([str(python), "-c", "import kivy"], capture_output=True, text=True,
                          check=False)
    assert "No module named 'kivy'" in kivy.stderr
    config = tmp_path / "central.toml"
    config.write_text(f'[central]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "kiosk-central"), "serve", "--config",
                               str(config), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _health(port, server, time.monotonic() + 60)["ok"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
