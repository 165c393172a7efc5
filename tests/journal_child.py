"""A kiosk's journal in its own process, driven line by line, for the disk fault tests: a SIGBUS
there kills only this child, and the test sees it in its exit status.

Run as `python -m tests.journal_child JOURNAL KEY`; then each line on stdin is a command
("append", "probe", "check", "intent", "quit") and each answer one line on stdout: "ok SEQ" (or
"ok"), or "error CAUSE MESSAGE". "opened" or "error ..." comes first, for the open itself.
"""

import sys

from kiosk.errors import JournalError
from kiosk.journal import Journal


def main(path: str, key: str) -> None:
    try:
        journal = Journal.open(path, key)
    except JournalError as e:
        print("error", e.cause, e, flush=True)
        return
    print("opened", flush=True)
    for line in sys.stdin:
        command = line.strip()
        try:
            if command == "append":
                print("ok", journal.append("checkout", "ok", item="33520000123453",
                                           title="红楼梦", patron="23520001234566",
                                           detail={"pad": "x" * 200}), flush=True)
            elif command == "intent":
                print("ok", journal.open_intent("checkout", item="33520000123453",
                                                patron="23520001234566"), flush=True)
            elif command == "probe":
                journal.probe()
                print("ok", flush=True)
            elif command == "check":
                journal.check()
                print("ok", flush=True)
            elif command == "quit":
                break
        except JournalError as e:
            print("error", e.cause, str(e).replace("\n", " "), flush=True)
    journal.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
