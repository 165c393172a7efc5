"""The download server's state where staff and patrons see it: the status check (admin screen
and `kiosk doctor`) and the links the title page gets. Real sockets on 127.0.0.1."""

from __future__ import annotations

import queue
import socket
import threading

import pytest

from kiosk import config as config_module
from kiosk import status
from kiosk.ebooks.addresses import interface_addresses
from kiosk.ebooks.assemble import ebooks_for


def make_config(tmp_path, ebooks: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[ebooks]\nserve = true\n'
                    f"{ebooks}", encoding="utf-8")
    return config_module.load(path)


@pytest.fixture
def held_port():
    """A port another program listens on: it takes connections and closes them unanswered."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = holder.accept()
            except OSError:
                return
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield holder.getsockname()[1]
    stop.set()
    holder.close()


def test_a_taken_port_means_no_download_code_and_a_fault_for_staff(tmp_path, held_port):
    config = make_config(tmp_path, f'listen = "127.0.0.1"\nport = {held_port}\n')
    library, server, _wifi = ebooks_for(config, {}, queue.Queue())
    with pytest.raises(OSError):
        server.start()
    assert library.downloads_unavailable and library.link("b1") is None
    live = status.check_downloads(config, library.downloads.state())
    assert live.ok is False and f"cannot listen on 127.0.0.1:{held_port}" in live.summary.english
    assert "free one" in live.advice.english
    doctor = status.check_downloads(config)  # no live state: what answers on the port
    assert doctor.ok is False
    assert doctor.summary.english == f"another program holds port {held_port}"


def test_a_listening_server_is_ok_but_a_loopback_listen_is_a_warning(tmp_path):
    config = make_config(tmp_path, 'listen = "127.0.0.1"\nport = 1\n')
    library, server, _wifi = ebooks_for(config, {}, queue.Queue())
    server.port = 0  # a free one, as the demo takes when its port is busy
    server.start()
    try:
        link = library.link("b1")
        assert f":{server.port}/d/b1?" in link  # the QR link follows the port really bound
        state = library.downloads.state()
        check = status.check_downloads(config, state)
        assert f"127.0.0.1:{server.port}" in check.summary.english
        assert "phones cannot reach" in check.advice.english
        if "//127." in state.link_base:  # no address but loopback: the codes reach it here
            assert check.ok and check.warning
        else:  # the codes name this machine's address, where nothing listens
            assert check.ok is False and "where nothing answers" in check.summary.english
        moved = make_config(tmp_path, f'listen = "127.0.0.1"\nport = {server.port}\n')
        doctor = status.check_downloads(moved)  # the doctor finds the kiosk's own server
        assert doctor.ok and doctor.warning and "serving on" in doctor.summary.english
    finally:
        server.stop()


def test_nothing_listening_is_not_known_to_the_doctor(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check = status.check_downloads(make_config(tmp_path, f"port = {port}\n"))
    assert check.ok is None and "kiosk app running" in check.advice.english


def _own_address() -> str:
    return next((a for a in sorted(interface_addresses())
                 if ":" not in a and not a.startswith("127.")), "")


@pytest.mark.parametrize("base, expected", [
    ("http://203.0.113.9:8080", "not an address of this kiosk"),
    ("http://127.0.0.1:8080", "phones cannot reach"),
    ("http://localhost:8080", "phones cannot reach"),
    ("http://{own}:9999", "the QR links use port 9999, the server listens on 8080"),
    ("http://{own}:8080", None),
])
def test_links_phones_cannot_follow_are_warned_about(base, expected):
    own = _own_address()
    if "{own}" in base and not own:
        pytest.skip("this machine has no address but loopback")
    warning = status._unreachable("0.0.0.0", base.format(own=own), 8080)
    if expected is None:
        assert warning is None
    else:
        assert expected in warning.english


def test_the_check_is_gathered_only_when_this_kiosk_serves_downloads(tmp_path):
    from kiosk.ui.screens.admin import CHECK_NAMES
    assert "downloads" in CHECK_NAMES  # the admin screen names it
    names = [c.name for c in status.gather(make_config(tmp_path, "port = 1\n")).checks]
    assert names[names.index("ebooks") + 1] == "downloads"


def test_the_address_the_codes_point_to_is_tried_for_real(tmp_path):
    """The app's own server, asked where the QR codes send phones: it answers there, or the
    row is a fault naming that address."""
    config = make_config(tmp_path, 'listen = "127.0.0.1"\nport = 1\n'
                                   'download_base = "http://127.0.0.1:1"\n')
    library, server, _wifi = ebooks_for(config, {}, queue.Queue())
    server.port = 0  # a free one
    server.start()
    try:
        links = library.downloads
        links.local_host = "127.0.0.1"  # the codes follow the port really bound
        check = status.check_downloads(config, links.state())
        assert check.ok and f"http://127.0.0.1:{server.port}, which can be reached" \
            in check.summary.english
        links.local_host = "127.0.0.2"  # an address where nothing listens
        check = status.check_downloads(config, links.state())
        assert check.ok is False
        assert check.summary.english == (f"running on 127.0.0.1:{server.port}, but the QR codes "
                                         f"point to http://127.0.0.2:{server.port}, where "
                                         "nothing answers")
        assert "phones cannot reach" in check.advice.english  # loopback: the cause named
    finally:
        server.stop()
