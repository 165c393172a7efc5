"""What every driver shares: `start()`, an idempotent `close()`, and use as a context manager."""

from __future__ import annotations


class Driver:
    name: str
    status: str

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
