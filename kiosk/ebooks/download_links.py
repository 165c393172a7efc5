"""The links the title screen puts in its QR code, and whether downloads work at all: when
this kiosk serves the files itself, a link is made only while its download server listens
(a port taken by another program means no code that cannot work), on the port it really
listens on (the demo takes a free one when its usual port is busy).

Runs on the Kivy main thread (the screen) and on the status worker (`state()`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from kiosk.ebooks.links import LinkSigner


@dataclass(frozen=True)
class DownloadState:
    """The download server as the app runs it, for the status check."""
    listening: bool
    host: str
    port: int  # the port it listens on, else the one it was asked for
    error: str = ""  # why it could not listen
    link_base: str = ""  # where the QR links send phones


class DownloadLinks:
    def __init__(self, signer: LinkSigner, server=None, local_host: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        """`server` (kiosk.ebooks.download_server.DownloadServer) when this kiosk serves the
        files; `local_host` when the links point at it by the address phones reach it at
        (else they use the signer's base, `[ebooks] download_base`)."""
        self.signer = signer
        self.server = server
        self.local_host = local_host
        self.clock = clock

    @property
    def unavailable(self) -> bool:
        """This kiosk should serve the files, and its server is not listening."""
        return self.server is not None and not self.server.listening

    def base(self) -> str:
        if self.server is not None and self.local_host:
            host = f"[{self.local_host}]" if ":" in self.local_host else self.local_host
            return f"http://{host}:{self.server.port}"
        return self.signer.base

    def link(self, title_id: str) -> str | None:
        if self.unavailable:
            return None
        return self.signer.link(title_id, self.clock(), base=self.base())

    def state(self) -> DownloadState | None:
        """None when this kiosk runs no download server."""
        server = self.server
        if server is None:
            return None
        return DownloadState(server.listening, server.host, server.port, server.error or "",
                             self.base())
