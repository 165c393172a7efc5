"""An offline-store writer for the crash test: adds transactions and settles every other one,
reporting each step once it is committed.

Run as `python -m tests.offline_writer STORE KEY TAG`; prints "add ID ITEM" and "settle ID".
"""

import sys
from datetime import datetime, timezone

from kiosk.ils.offline_store import OfflineStore

PATRON = "23520001234566"


def main(path: str, key: str, tag: str) -> None:
    store = OfflineStore(path, key)
    n = 0
    while True:
        n += 1
        item = f"{tag}-{n}"
        kind = "checkout" if n % 3 else "checkin"
        tx = store.add(kind, PATRON if kind == "checkout" else None, item,
                       datetime.now(timezone.utc), journal_seq=n)
        print("add", tx, item, flush=True)
        if n % 2 == 0:
            store.settle(tx, "refused", "on hold for another patron")
            print("settle", tx, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
