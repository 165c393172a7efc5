"""An offline replay for the crash test: replays the store through a real SIP2 client and
reports each settled transaction.

Run as `python -m tests.offline_replayer STORE KEY PORT`; prints "ready", then "ID OUTCOME".
"""

import sys

from kiosk.ils.offline_store import OfflineStore, replay
from kiosk.sip2.client import IlsSettings, Sip2Client


def main(path: str, key: str, port: str) -> None:
    store = OfflineStore(path, key)
    client = Sip2Client(IlsSettings(host="127.0.0.1", port=int(port), username="kiosk",
                                    password="secret", institution="LL", timeout_s=5))
    client.connect()
    print("ready", flush=True)
    replay(store, client, lambda done: print(done.transaction.id, done.outcome, flush=True))


if __name__ == "__main__":
    main(*sys.argv[1:4])
