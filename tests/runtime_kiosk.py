"""Test parts for a kiosk runtime without a screen: the `[ils]` section that points it at a test
ILS, and the main loop a test runs until something has happened."""

from __future__ import annotations

import time

from kiosk.sip2.test_server import Sip2TestServer


def ils_section(server: Sip2TestServer) -> str:
    """`[ils]` for the test ILS `server`: its address, login and charset, short timeouts."""
    host, port = server.address
    username, password = server.login or ("", "")
    return (f'[ils]\nhost = "{host}"\nport = {port}\nusername = "{username}"\n'
            f'password = "{password}"\ncharset = "{server.charset}"\ntimeout_s = 1.0\n'
            "retries = 1\n")


def pump_until(runtime, condition, timeout: float = 15.0) -> None:
    """Pump the runtime as the app's clock would, until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        runtime.pump()
        time.sleep(0.02)
