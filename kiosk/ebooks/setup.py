"""Puts the e-book parts together from the config: the library the screens read, the signer of
QR links, the download server when this kiosk serves files, and the Wi-Fi QR payload."""

from __future__ import annotations

import logging
import queue
import socket
import time

from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.ebooks.library import EbookLibrary

log = logging.getLogger(__name__)


def ebooks_for(config: Config, view_counts: dict[str, int], events: queue.Queue):
    """(library, download server or None, Wi-Fi QR payload or ""); `view_counts` are the
    journal's e-book views per title, for "most popular here"."""
    from kiosk.ebooks.links import LinkSigner, load_or_make_key
    books = config.ebooks
    base = books.download_base or (local_base(books.port) if books.serve else "")
    signer = None
    if base:
        signer = LinkSigner(load_or_make_key(config.link_key_path), config.kiosk.id, base,
                            ttl_s=books.link_ttl_s)
    library = EbookLibrary(config.catalogue_dir,
                           view_counts=view_counts,
                           link=(lambda title_id: signer.link(title_id, time.time()))
                           if signer else None)
    server, wifi = None, ""
    if books.serve and signer is not None:
        from kiosk.ebooks.download_server import DownloadServer
        from kiosk.ebooks.wifi import wifi_qr_payload
        server = DownloadServer(signer, config.catalogue_dir,
                                lambda title_id, outcome, count: events.put(
                                    ev.EbookDownloaded(title_id, outcome, count)),
                                books.listen, books.port)
        if books.wifi_ssid:
            wifi = wifi_qr_payload(books.wifi_ssid, books.wifi_password, books.wifi_security)
    return library, server, wifi


def local_base(port: int) -> str:
    """This kiosk's address on the library network, as phones on its Wi-Fi reach it."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
        log.warning("no network route: QR links point at 127.0.0.1, which phones cannot reach")
    finally:
        probe.close()
    return f"http://{address}:{port}"
