"""The media helper's calls off the UI thread: one worker thread runs them one after another on
one connection (so the mounts a look made are still there for the install), and hands each
result, and each progress line, back through `deliver` (the app: Kivy's Clock, so callbacks run
on the main thread). The thread starts with the first call and ends with `close()`, which also
hangs up: the helper then unmounts the stick.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from kiosk.media.client import MediaClient, MediaUnavailable
from kiosk.media.protocol import Progress

log = logging.getLogger(__name__)
Deliver = Callable[[Callable[[], None]], None]


class MediaWorker:
    def __init__(self, deliver: Deliver, client: MediaClient | None = None) -> None:
        self.deliver = deliver
        self.client = client or MediaClient()
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, call: Callable[[MediaClient, Callable[[Progress], None]], Any],
               done: Callable[[Any], None],
               progress: Callable[[Progress], None] | None = None) -> None:
        """Run `call(client, on_progress)` on the worker; `done(result)` gets its reply, or the
        MediaUnavailable it raised."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(self.client, self._jobs),
                                            name="kiosk-media-client", daemon=True)
            self._thread.start()
        self._jobs.put((call, done, progress))

    def close(self) -> None:
        """Hang up once the calls already asked for are done (idempotent)."""
        if self._thread is not None:
            self._jobs.put(None)
            # The next look starts a connection of its own; this one ends on its thread.
            self._thread, self._jobs = None, queue.Queue()
            self.client = MediaClient(self.client.path)

    def _run(self, client: MediaClient, jobs: queue.Queue) -> None:
        while (job := jobs.get()) is not None:
            call, done, progress = job

            def on_progress(step: Progress, progress=progress) -> None:
                if progress is not None:
                    self.deliver(partial(progress, step))
            try:
                result = call(client, on_progress)
            except MediaUnavailable as e:
                log.warning("USB stick: %s", e)
                result = e
            self.deliver(partial(done, result))
        client.close()
