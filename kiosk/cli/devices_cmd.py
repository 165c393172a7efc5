"""`kiosk devices list|listen|secure|unsecure`: the technician's view of the hardware.

`listen` prints one JSON object per driver event per line (see drivers.listen_json) until
interrupted; `secure`/`unsecure` arm or disarm one item's alarm and print the value read back,
exiting 0 when the tag ends in the state asked for, 1 when it does not, 2 when it cannot be known.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable

from drivers import discovery
from drivers.base import SecurityReader
from drivers.errors import DeviceError
from drivers.listen_json import as_json
from drivers.registry import open_source
from drivers.source import parse
from kiosk.cli import arg_types
from kiosk.cli.common import load_config
from kiosk.cli.words import _, english, pad
from kiosk.errors import KioskError
from kiosk.i18n import N_

CONNECT_TIMEOUT_S = 10.0
SECURITY_WAIT_S = 15.0  # for the pad to carry a request out; a technician can wait longer
EXIT_AS_ASKED, EXIT_NOT_AS_ASKED, EXIT_UNKNOWN = 0, 1, 2
SECURED = {True: N_("secured"), False: N_("unsecured")}


class DeviceCommandError(KioskError, RuntimeError):
    """A device command could not be carried out."""


def register(subparsers, common) -> None:
    p = subparsers.add_parser("devices", parents=[common],
                              help=_("list, listen to and test scanners, readers and printers"))
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", parents=[common],
                             help=_("what is attached, and which configured device matches it"))
    listing.add_argument("--json", action="store_true", help=_("one JSON document"))
    listing.set_defaults(func=run_list)

    listen = sub.add_parser("listen", parents=[common],
                            help=_("print every event as a JSON line until Ctrl-C"))
    listen.add_argument("--source", action="append", metavar="SRC",
                        type=arg_types.text(N_("source")),
                        help=_("a source string or configured device name (repeatable); "
                               "default: every configured device"))
    listen.add_argument("--seconds", type=arg_types.seconds(0.1, 7 * 86400.0), metavar="S",
                        help=_("stop after S seconds (default: at Ctrl-C)"))
    listen.set_defaults(func=run_listen)

    for action, secured in (("secure", True), ("unsecure", False)):
        p_sec = sub.add_parser(action, parents=[common],
                               help=_("arm one item's alarm by UID and print the value read "
                                      "back") if secured else
                               _("disarm one item's alarm by UID and print the value read back"))
        p_sec.add_argument("--source", required=True, metavar="SRC",
                           type=arg_types.text(N_("source")),
                           help=_("an RFID reader's source string or configured device name"))
        p_sec.add_argument("--uid", required=True, help=_("the tag's UID, 16 hex digits (E004...)"))
        p_sec.set_defaults(func=run_security, secured=secured)


# --- list ---------------------------------------------------------------------------------

def run_list(args) -> int:
    config = load_config(args)
    found, notes = discovery.attached()
    configured: list[dict] = []
    states: list[str] = []
    for name, text in sorted(config.devices.items()):
        matches = discovery.resolve(parse(text), found)
        configured.append({"name": name, "source": text, "matches": [d.path for d in matches],
                           "state": _presence(text, matches, english)})
        states.append(_presence(text, matches, _))
    if args.json:
        print(json.dumps({"attached": [_attached_json(d) for d in found],
                          "configured": configured, "notes": notes},
                         ensure_ascii=False, indent=2))
        return 0
    users = {path: c["name"] for c in configured for path in c["matches"]}
    for kind, title in (("input", _("Input devices (keyboard-wedge scanners, keyboards):")),
                        ("serial", _("Serial ports (RFID readers, serial scanners, card readers, "
                                     "receipt printers):"))):
        print(title)
        rows = [d for d in found if d.kind == kind]
        for d in rows:
            used = f"  <- {users[d.path]}" if d.path in users else ""
            keys = "" if kind == "serial" or d.keys else " " + _("(no letter keys)")
            serial_number = (" " + _("serial {number}", number=d.serial_number)
                             if d.serial_number else "")
            print(f"  {d.path:<20} {d.usb_id or '-':<10} {d.name}{serial_number}{keys}{used}")
            for link in d.links:
                print(f"  {'':<20} {'':<10} {link}")
        if not rows:
            print("  " + _("none found"))
    print(_("Configured devices:"))
    for c, state in zip(configured, states, strict=True):
        print(f"  {pad(c['name'], 12)} {c['source']}\n  {'':<12} -> {state}")
    if not configured:
        print("  " + _("none: add them to [devices] in kiosk.toml"))
    for note in notes:
        print(_("note: {note}", note=note))
    return 0


def _presence(text: str, matches: list, tr: Callable[..., str]) -> str:
    """Whether a configured device is there, in `tr`'s words: English for --json, whose
    readers are programs, the technician's language for the listing."""
    source = parse(text)
    if source.scheme == "sim":
        return tr(N_("simulated"))
    if matches:
        return tr(N_("found: {paths}"), paths=", ".join(d.path for d in matches))
    if not discovery.USB_ID.match(source.target):
        if os.path.exists(source.target):
            return tr(N_("found: {path} (not a USB or input device)"),
                      path=os.path.realpath(source.target))
    return tr(N_("NOT FOUND"))


def _attached_json(d: discovery.Attached) -> dict:
    return {"kind": d.kind, "path": d.path, "name": d.name, "usb_id": d.usb_id or None,
            "serial_number": d.serial_number or None, "links": list(d.links),
            "keys": d.keys if d.kind == "input" else None}


# --- listen -------------------------------------------------------------------------------

def run_listen(args) -> int:
    config = load_config(args)
    events: queue.Queue = queue.Queue()
    drivers = [open_source(name, text, events, config.driver_settings)
               for name, text in _chosen_sources(args.source, config)]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    deadline = time.monotonic() + args.seconds if args.seconds else None
    for driver in drivers:
        driver.start()
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                continue
            print(json.dumps(as_json(event), ensure_ascii=False), flush=True)
    except BrokenPipeError:
        pass  # `| head` closed the pipe
    finally:
        for driver in drivers:
            driver.close()
    return 0


def _chosen_sources(chosen: list[str] | None, config) -> list[tuple[str, str]]:
    if not chosen:
        if not config.devices:
            raise DeviceCommandError(_("no devices configured; name one with --source"))
        return sorted(config.devices.items())
    return [(text, config.devices[text]) if text in config.devices else (text, text)
            for text in chosen]


# --- secure / unsecure --------------------------------------------------------------------

def run_security(args) -> int:
    config = load_config(args)
    (name, text), = _chosen_sources([args.source], config)
    uid = args.uid.strip().upper()
    if len(uid) != 16 or any(c not in "0123456789ABCDEF" for c in uid):
        raise DeviceCommandError(_("--uid must be 16 hex digits, as `kiosk devices listen` "
                                   "prints them (got {uid!r})", uid=args.uid))
    events: queue.Queue = queue.Queue()
    driver = open_source(name, text, events, config.driver_settings)
    driver.start()
    try:
        if not isinstance(driver, SecurityReader):
            raise DeviceCommandError(_("{source} is not an RFID reader", source=text))
        _wait_connected(driver, events)
        result = driver.set_security(uid, args.secured, timeout=SECURITY_WAIT_S)
    except DeviceError as e:  # nothing was written
        message = str(e)
        raise DeviceCommandError(message if message.startswith(name) else f"{name}: {message}") \
            from None
    finally:
        driver.close()
    asked = "secured" if args.secured else "unsecured"
    print(json.dumps({"source": name, "uid": uid, "asked": asked, "secured": result.secured,
                      "value": None if result.value is None else _value_text(result.value),
                      "error": result.error or None}))
    return _explain(name, uid, asked, args.secured, result)


def _value_text(value: int | bool) -> str | bool:
    return value if isinstance(value, bool) else f"0x{value:02X}"


def _explain(name: str, uid: str, asked: str, wanted: bool, result) -> int:
    """One line on stderr for anything but a plain success, and the exit code."""
    def say(text: str) -> None:
        print(f"kiosk: {name}: {text}", file=sys.stderr)

    if result.value is None:
        say(_("the state of {uid} is unknown: it could not be read back ({why}). Check that the "
              "tag lies on the pad, then run the command again", uid=uid, why=result.error))
        return EXIT_UNKNOWN
    value = result.value
    shown = f"EAS {'on' if value else 'off'}" if isinstance(value, bool) else f"AFI 0x{value:02X}"
    asked = _(SECURED[wanted])  # the JSON line above keeps the English word
    if result.secured is wanted:
        if result.error:
            say(_("{uid} reads back {asked} ({shown}), as asked, after: {why}", uid=uid,
                  asked=asked, shown=shown, why=result.error))
        return EXIT_AS_ASKED
    if result.secured is None:
        state = _("reads back {shown}, which is neither secured nor unsecured in [rfid]",
                  shown=shown)
    else:
        state = _("is still {state} ({shown})", state=_(SECURED[result.secured]), shown=shown)
    say(_("{uid} {state}, not {asked}: {why}. Run the command again; if it keeps failing, the "
          "tag may be locked or faulty", uid=uid, state=state, asked=asked,
          why=result.error or _("the tag did not take the write")))
    return EXIT_NOT_AS_ASKED


def _wait_connected(driver, events: queue.Queue) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while driver.status not in ("connected", "degraded"):
        if time.monotonic() > deadline:
            detail = getattr(driver, "detail", "") or driver.status
            raise DeviceCommandError(_("{name} did not connect within {seconds} s: {detail}",
                                       name=driver.name, seconds=f"{CONNECT_TIMEOUT_S:g}",
                                       detail=detail))
        time.sleep(0.05)
    while not events.empty():
        events.get_nowait()
    print("kiosk: " + _("{name} connected", name=driver.name), file=sys.stderr)
