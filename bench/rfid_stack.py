"""RFID stack: the time from 10 tagged books landing on the pad to the driver reporting all 10.

The real pad driver runs against each reader's simulator on a pty, the simulator answering at
the real reader's baud rate (every byte both ways costs 10 bit times). The figure is compared
with the wire-time floor: the time the bytes actually exchanged need on the line at that baud
rate, which no driver can beat with the same commands. Tags land at a random moment of the
poll cycle, so up to one poll interval of waiting is part of what a patron sees; it is shown
separately.
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import scratch_folder  # noqa: E402
from bench.results import write_section  # noqa: E402
from drivers.events import TagsSeen  # noqa: E402
from drivers.rfid import tagdata  # noqa: E402
from drivers.rfid.pad import RfidPad  # noqa: E402
from drivers.settings import RfidSecurity  # noqa: E402
from drivers.sim.pty_port import BITS_PER_BYTE  # noqa: E402
from drivers.sim.rfid_pad import MEMORY_BLOCKS, SimPad, SimTag  # noqa: E402

STACK = 10
POLL_MS = 250


def readers() -> dict[str, tuple]:
    from drivers.rfid.m810 import M810Link
    from drivers.sim.m810 import start_m810_sim
    found = {"3M 810": (M810Link, start_m810_sim)}
    try:
        from drivers.rfid.trf7970a import Trf7970aLink
        from drivers.sim.trf7970a import start_trf7970a_sim
        found["TI TRF7970A"] = (Trf7970aLink, start_trf7970a_sim)
    except ImportError:
        pass
    return found


def stacked_pad() -> SimPad:
    pad = SimPad()
    for n in range(STACK):
        uid = f"E0040150{n:08X}"
        memory = bytearray(MEMORY_BLOCKS * 4)
        memory[:32] = tagdata.encode("iso28560-3", item_id=f"3352000{n:07d}", isil="CN-430281")
        pad.tags[uid] = SimTag(uid, memory)
    return pad


def wait_tags(events: queue.Queue, count: int) -> float:
    while True:
        event = events.get(timeout=30)
        if isinstance(event, TagsSeen) and len(event.tags) == count:
            return time.perf_counter()


def measure(link_class, start_twin, runs: int) -> dict[str, float]:
    pad = stacked_pad()
    folder = scratch_folder("bench-rfid-")
    twin = start_twin(pad, folder / "reader", paced=True)
    events: queue.Queue = queue.Queue()
    driver = RfidPad("rfid", events, link_class, str(folder / "reader"),
                     RfidSecurity(poll_ms=POLL_MS))
    driver.start()
    totals, wires = [], []
    try:
        wait_tags(events, 0)
        for _ in range(runs):
            time.sleep(random.uniform(0, POLL_MS / 1000))  # land anywhere in the poll cycle
            before = len(twin.received) + twin.sent_count
            landed = time.perf_counter()
            pad.place(*pad.tags)
            reported = wait_tags(events, STACK)
            exchanged = len(twin.received) + twin.sent_count - before
            totals.append(reported - landed)
            wires.append(exchanged * BITS_PER_BYTE / link_class.baud)
            pad.clear()
            wait_tags(events, 0)
    finally:
        driver.close()
        twin.close()
    return {"median_s": statistics.median(totals), "max_s": max(totals),
            "wire_s": statistics.median(wires), "baud": link_class.baud}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    lines = [f"A stack of {STACK} ISO 28560-3 tags placed at once; poll every {POLL_MS} ms; "
             f"{args.runs} runs, medians. Simulators paced at the real baud rate.", "",
             "| reader | baud | placed → reported | worst | wire-time floor | beyond the floor |",
             "|---|---|---|---|---|---|"]
    for name, (link_class, start_twin) in readers().items():
        r = measure(link_class, start_twin, args.runs)
        lines.append(f"| {name} | {r['baud']} | {r['median_s'] * 1000:.0f} ms | "
                     f"{r['max_s'] * 1000:.0f} ms | {r['wire_s'] * 1000:.0f} ms | "
                     f"{(r['median_s'] - r['wire_s']) * 1000:.0f} ms |")
    lines += ["", "The floor counts the bytes the driver and reader exchanged between placing "
              "and reporting (inventories, 8-block reads, AFI reads). What lies beyond it is "
              "the wait for the next poll to begin and the reader's turnaround."]
    print("\n".join(lines))
    if not args.no_write:
        write_section("RFID stack of 10 tags", lines)


if __name__ == "__main__":
    main()
