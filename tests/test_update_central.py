"""The heartbeat's system version, boot slot and update state on the real central server:
stored, shown on the fleet page with the kiosk's version, a fall-back listed as a problem in
both languages; heartbeats of older kiosks (without the fields) still accepted."""

from __future__ import annotations

import re

import pytest
import requests

from central.storage import Storage
from tests.central_server import PASSWORD, add_kiosk, add_user, database_url, serve
from tests.test_central_api import heartbeat, post
from tests.test_central_pages import signed_in


@pytest.fixture
def server(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            yield running
    finally:
        storage.close()


def fleet_row(page: str, kiosk: str) -> str:
    return re.search(rf'<tr class="\w+" data-kiosk="{kiosk}">(.*?)</tr>', page, re.S).group(1)


def test_the_fleet_page_shows_system_version_slot_and_a_fall_back(server):
    new, old = add_kiosk(server.storage, "lobby-1"), add_kiosk(server.storage, "lobby-2")
    add_user(server.storage, "admin", "admin", "x", PASSWORD)
    fell_back = heartbeat("lobby-1", system_version="0.2.0", slot="B", update="fell_back")
    assert post(server, "heartbeat", fell_back, new).status_code == 200
    assert post(server, "heartbeat", heartbeat("lobby-2"), old).status_code == 200  # older kiosk
    assert post(server, "heartbeat", heartbeat("lobby-2", update="broken"),
                old).status_code == 422
    [entry] = server.storage.fleet(["lobby-1"])
    assert (entry.heartbeat["system_version"], entry.heartbeat["slot"],
            entry.heartbeat["update"]) == ("0.2.0", "B", "fell_back")
    session = signed_in(server, "admin")
    page = session.get(f"{server.url}/fleet", timeout=10).text
    row = fleet_row(page, "lobby-1")
    assert "系统 0.2.0，分区 B" in row and "上次更新失败：自助机已回退到分区 B" in row
    assert 'class="fault" data-kiosk="lobby-1"' in page
    assert "分区" not in fleet_row(page, "lobby-2")
    session.get(f"{server.url}/lang/en", params={"next": "/fleet"}, timeout=10)
    english = session.get(f"{server.url}/fleet", timeout=10).text
    assert "system 0.2.0, slot B" in english
    assert "The last update failed: the kiosk fell back to slot B" in english
    assert requests.get(f"{server.url}/api/v1/health", timeout=10).ok
