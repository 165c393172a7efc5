"""A journal writer for the crash tests: appends rows and reports each one once it is committed.

Run as `python -m tests.journal_writer JOURNAL KEY TAG`; prints "seq item" per committed row.
"""

import sys

from kiosk.journal import Journal


def main(path: str, key: str, tag: str) -> None:
    journal = Journal.open(path, key)
    n = 0
    while True:
        n += 1
        item = f"{tag}-{n}"
        seq = journal.append("checkout", "ok", item=item, title="红楼梦", patron="23520001234566",
                             detail={"n": n})
        print(seq, item, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
