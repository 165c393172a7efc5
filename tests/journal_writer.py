"""A journal writer for the crash tests: appends rows and reports each one once it is committed.

Run as `python -m tests.journal_writer JOURNAL KEY TAG [PAUSE_S]`; prints "seq item" per
committed row, pausing PAUSE_S (default 0) after each.
"""

import sys
import time

from kiosk.journal import Journal


def main(path: str, key: str, tag: str, pause_s: str = "0") -> None:
    journal = Journal.open(path, key)
    n = 0
    while True:
        n += 1
        item = f"{tag}-{n}"
        seq = journal.append("checkout", "ok", item=item, title="红楼梦", patron="23520001234566",
                             detail={"n": n})
        print(seq, item, flush=True)
        time.sleep(float(pause_s))


if __name__ == "__main__":
    main(*sys.argv[1:5])
