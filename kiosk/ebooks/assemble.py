"""Puts the e-book parts together from the config: the library the screens read, the signer of
QR links, the download server when this kiosk serves files, and the Wi-Fi QR payload."""

from __future__ import annotations

import logging
import queue
import socket

from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.ebooks.library import EbookLibrary

log = logging.getLogger(__name__)


def ebooks_for(config: Config, view_counts: dict[str, int], events: queue.Queue):
    """(library, download server or None, Wi-Fi QR payload or ""); `view_counts` are the
    journal's e-book views per title, for "most popular here". The library's links follow
    the server: none while it cannot listen, and its real port when it serves them itself."""
    from kiosk.ebooks.download_links import DownloadLinks
    from kiosk.ebooks.links import LinkSigner, load_or_make_key
    books = config.ebooks
    local_host = local_address() if books.serve and not books.download_base else ""
    base = books.download_base or (f"http://{local_host}:{books.port}" if local_host else "")
    links = None
    if base:
        signer = LinkSigner(load_or_make_key(config.link_key_path), config.kiosk.id, base,
                            ttl_s=books.link_ttl_s)
        links = DownloadLinks(signer, local_host=local_host)
    server, wifi = None, ""
    if books.serve and links is not None:
        from kiosk.ebooks.download_server import DownloadServer
        from kiosk.ebooks.wifi import wifi_qr_payload
        server = DownloadServer(links.signer, config.catalogue_dir,
                                lambda title_id, outcome, count: events.put(
                                    ev.EbookDownloaded(title_id, outcome, count)),
                                books.listen, books.port)
        links.server = server
        if books.wifi_ssid:
            wifi = wifi_qr_payload(books.wifi_ssid, books.wifi_password, books.wifi_security)
    library = EbookLibrary(config.catalogue_dir, view_counts=view_counts, downloads=links)
    return library, server, wifi


def local_address() -> str:
    """The address of the interface that routes to the library network (127.0.0.1, with a
    warning, when there is no route)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
        log.warning("no network route: QR links point at 127.0.0.1, which phones cannot reach")
    finally:
        probe.close()
    return address
