"""Behind a reverse proxy: the real app under uvicorn as `kiosk-central serve` runs it (the
app reads the headers), on loopback. X-Forwarded-For and X-Forwarded-Proto are believed from
`trusted_proxies` only (default 127.0.0.1, where nginx or Caddy runs), so the audit log and the
sign-in throttle see the client's address; from anyone else they are ignored, and a client
cannot hide behind addresses it writes into the header itself."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import uvicorn
from fastapi import Request

from central.app import create_app
from central.config import CentralConfig, load
from central.errors import CentralConfigError
from central.storage import Storage

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


@contextmanager
def behind(tmp_path: Path, **options):
    """The server as `serve` runs it, plus a page that says whom it sees."""
    config = CentralConfig(data_dir=str(tmp_path), **options)
    storage = Storage.open(config.db_url)
    app = create_app(config, storage)

    @app.get("/test-whoami")
    def whoami(request: Request) -> dict:
        return {"client": request.client.host if request.client else None,
                "scheme": request.url.scheme}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/test-whoami"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        storage.close()


def test_the_default_believes_a_proxy_on_this_machine(tmp_path):
    with behind(tmp_path) as url:
        assert requests.get(url, headers=FORWARDED, timeout=10).json() == {
            "client": "203.0.113.7", "scheme": "https"}
        # No proxy headers: the connection's own address.
        assert requests.get(url, timeout=10).json() == {"client": "127.0.0.1", "scheme": "http"}


def test_addresses_a_client_writes_itself_are_not_believed(tmp_path):
    """nginx appends the address it saw; what the client put before it is its own claim."""
    with behind(tmp_path) as url:
        seen = requests.get(url, timeout=10, headers={
            "X-Forwarded-For": "10.0.0.1, 203.0.113.7"}).json()
    assert seen["client"] == "203.0.113.7"


@pytest.mark.parametrize("trusted", ["10.9.9.9", "192.168.0.0/16, 10.0.0.5", ""])
def test_headers_from_an_untrusted_peer_are_ignored(tmp_path, trusted):
    with behind(tmp_path, trusted_proxies=trusted) as url:
        assert requests.get(url, headers=FORWARDED, timeout=10).json() == {
            "client": "127.0.0.1", "scheme": "http"}


def test_a_network_is_trusted_as_a_whole(tmp_path):
    with behind(tmp_path, trusted_proxies="127.0.0.0/8") as url:
        assert requests.get(url, headers=FORWARDED, timeout=10).json()["client"] == \
            "203.0.113.7"


def test_the_option_is_read_and_checked(tmp_path):
    path = tmp_path / "central.toml"
    path.write_text('[central]\ntrusted_proxies = "10.0.0.5, 192.168.1.0/24"\n')
    assert load(path).trusted_proxies == "10.0.0.5, 192.168.1.0/24"
    assert CentralConfig().trusted_proxies == "127.0.0.1"
    path.write_text('[central]\ntrusted_proxies = "nginx.example"\n')
    with pytest.raises(CentralConfigError, match="option 'trusted_proxies' in \\[central\\] is "
                                                 "not valid: IP addresses or networks"):
        load(path)
