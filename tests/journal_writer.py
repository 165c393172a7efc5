"""A journal writer for the crash tests: appends rows and reports each one once it is committed.

Run as `python -m tests.journal_writer JOURNAL KEY TAG [PAUSE_S]`; prints "seq item" per
committed row. With PAUSE_S (default 0: a tight loop, for the crash tests) it then leaves the
journal alone for PAUSE_S, or for as long as its own append took if that was longer: SQLite's
write lock is not queued (a waiting writer polls it, backing off to 100 ms between tries), so a
writer that takes it back at once can keep another out past any busy timeout, the more so on a
loaded machine where each fsynced append takes longer. The kiosk's own writers are far apart.
"""

import sys
import time

from kiosk.journal import Journal


def main(path: str, key: str, tag: str, pause_s: str = "0") -> None:
    journal = Journal.open(path, key)
    least_pause = float(pause_s)
    n = 0
    while True:
        n += 1
        item = f"{tag}-{n}"
        started = time.monotonic()
        seq = journal.append("checkout", "ok", item=item, title="红楼梦", patron="23520001234566",
                             detail={"n": n})
        print(seq, item, flush=True)
        if least_pause:
            time.sleep(max(least_pause, time.monotonic() - started))


if __name__ == "__main__":
    main(*sys.argv[1:5])
