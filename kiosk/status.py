"""The kiosk's health, one check at a time: for the admin screen and `kiosk doctor`.

`gather()` blocks on the network (a few seconds at most), so the app calls it on a worker thread.
Summaries are message ids with arguments: the admin screen translates them, the doctor prints
the English. A check's `ok` is True (working), False (a fault to fix) or None (not set up, or
cannot be known here); a working check may carry a `warning` (something to look at, with
advice: printed WARN by the doctor, not a fault).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from drivers import discovery
from drivers.source import parse as parse_source
from kiosk import __version__, system
from kiosk.config import Config
from kiosk.delivery import status as delivery_status
from kiosk.delivery.releases import ReleaseKind
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import CentralRequestError, JournalError, KioskError
from kiosk.i18n import N_
from kiosk.journal import Journal, reserve
from kiosk.journal.store import parse_utc
from kiosk.journal_keeper import JournalFault
from kiosk.sizes import size_text
from kiosk.upload import state as upload_state

NETWORK_TIMEOUT_S = 3.0
UNSETTLED_AFTER_S = 120.0  # an intent open longer than this is no longer in flight
CENTRAL_TIMEOUT = (3.05, 10)  # connect, read
MIN_FREE_BYTES = 100 * 1024 * 1024  # the journal needs room; a full card loses transactions


@dataclass(frozen=True)
class Message:
    msgid: str
    # Mapping, not dict: read-only here, and a dict[str, str] of arguments is one too.
    args: Mapping[str, object] = field(default_factory=dict)

    @property
    def english(self) -> str:
        return self.msgid.format(**self.args) if self.args else self.msgid


@dataclass(frozen=True)
class Check:
    name: str  # version, config, journal, disk, clock, ebooks, ils, central, device:<name>
    ok: bool | None
    summary: Message
    advice: Message | None = None
    warning: bool = False  # ok, but the advice names something to set right


@dataclass(frozen=True)
class StatusReport:
    checks: tuple[Check, ...]
    taken_at: datetime
    # What the ILS refused when offline transactions were replayed, for staff to deal with
    # (kiosk.ils.offline_store.OfflineTransaction, oldest first).
    offline_refused: tuple = ()
    # Transactions whose result nobody knows (intent rows, kiosk.journal.Row, oldest first):
    # the kiosk stopped mid-way or the reply was lost, and the ILS could not tell yet.
    unsettled: tuple = ()


def gather(config: Config, *, device_states: dict[str, tuple[str, str]] | None = None,
           journal_fault: JournalFault | None = None,
           verify_journal: bool = False, downloads=None) -> StatusReport:
    """Every check; a running app adds its live `device_states` (name -> (state, detail)),
    why its journal cannot be written, when it is out of service, and its download server's
    state (kiosk.ebooks.download_links.DownloadState)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        ils = pool.submit(check_ils, config)
        central = pool.submit(check_central, config)
        checks = [check_version(), check_config(config),
                  check_journal(config, verify=verify_journal, fault=journal_fault),
                  check_disk(config),
                  check_clock(),
                  check_catalogue(config)]
        if config.ebooks.serve:
            checks.append(check_downloads(config, downloads))
        attached = discovery.attached()[0] if config.devices else []
        checks += [check_device(name, source, (device_states or {}).get(name), attached)
                   for name, source in sorted(config.devices.items())]
        checks += [ils.result(), central.result()]
        offline, refused = read_offline(config)
        unsettled_check, unsettled = read_unsettled(config)
        checks += [offline, unsettled_check]
    return StatusReport(tuple(checks), datetime.now(timezone.utc), refused, unsettled)


def check_version() -> Check:
    python = ".".join(map(str, sys.version_info[:3]))
    return Check("version", True, Message(N_("kiosk {version}, Python {python}"),
                                          {"version": __version__, "python": python}))


def check_config(config: Config) -> Check:
    if not config.sources:
        return Check("config", None, Message(N_("no config file; built-in defaults")),
                     Message(N_("copy systemd/kiosk.toml.example to /etc/kiosk/kiosk.toml")))
    summary = Message(N_("read from {files}"), {"files": ", ".join(config.sources)})
    if not config.admin.pin_hash:
        return Check("config", True, summary,
                     Message(N_("no staff PIN: set [admin] pin_hash with 'kiosk hash-pin'")))
    pin_warning = staff_pin_warning(config)
    if pin_warning is not None:
        return Check("config", True, summary, pin_warning, warning=True)
    return Check("config", True, summary)


def staff_pin_warning(config: Config) -> Message | None:
    """What is wrong with a working staff PIN. Its length cannot be read from its hash: `kiosk
    hash-pin` refuses fewer than six digits unless told --short; the demo's PIN is known."""
    from kiosk.config import readable_by_any_pc
    from kiosk.core.pin import verify_pin
    from kiosk.demo import DEMO_PIN

    if verify_pin(DEMO_PIN, config.admin.pin_hash):
        return Message(N_("the staff PIN is the demo's ({pin}), which anyone can read: make a "
                          "PIN of at least 6 digits with 'kiosk hash-pin'"), {"pin": DEMO_PIN})
    source = config.origins.get("admin.pin_hash")
    if source and readable_by_any_pc(source):
        return Message(N_("the staff PIN's hash is in {path}, on the boot partition any PC can "
                          "read (and a short PIN is quick to guess from it): move [admin] "
                          "pin_hash to /etc/kiosk/kiosk.toml, and use at least 6 digits"),
                       {"path": source})
    return None


def check_journal(config: Config, *, verify: bool = False,
                  fault: JournalFault | None = None) -> Check:
    """Readable, whole (with `verify`), and writable: a real write that adds no row. The
    running app's own `fault` comes first: its connection is the one that failed."""
    path = config.journal_path
    if fault is not None:
        return Check("journal", False,
                     Message(_JOURNAL_FAULTS[fault.cause], {"error": fault.message}),
                     _JOURNAL_ADVICE[fault.cause])
    if not path.exists():
        folder = next((p for p in path.parents if p.exists()), Path("/"))
        disk = system.disk_state(folder)
        if disk is not None and disk.read_only:
            return Check("journal", False,
                         Message(N_("cannot create {path}: the data partition is read-only"),
                                 {"path": str(path)}), _JOURNAL_ADVICE["read_only"])
        if not os.access(folder, os.W_OK):
            return Check("journal", False,
                         Message(N_("cannot create {path}: folder not writable"),
                                 {"path": str(path)}),
                         Message(N_("give the kiosk user write access to {folder}"),
                                 {"folder": str(folder)}))
        return Check("journal", None,
                     Message(N_("not created yet; the kiosk makes it on first start")))
    try:
        with Journal.open_existing(path) as journal:
            stats = journal.stats()
            problems = journal.verify() if verify else []
            journal.probe()
    except JournalError as e:
        return Check("journal", False, Message(_JOURNAL_FAULTS[e.cause], {"error": str(e)}),
                     _JOURNAL_ADVICE[e.cause])
    if problems:
        return Check("journal", False,
                     Message(N_("{count} problems, first: {problem}"),
                             {"count": len(problems), "problem": problems[0]}),
                     Message(N_("run 'kiosk journal verify' and keep the file for inspection")))
    return Check("journal", True, Message(N_("{rows} rows, {unsent} not yet uploaded"),
                                          {"rows": stats.rows, "unsent": stats.unsent}))


# What a journal fault is called on the admin screen and by the doctor, and what to do, by cause.
_JOURNAL_FAULTS = {
    "full": N_("the data partition is full: {error}"),
    "read_only": N_("the data partition is read-only: {error}"),
    "replaced": N_("the journal file was replaced: {error}"),
    "damaged": N_("unreadable: {error}"),
    "io": N_("cannot be used: {error}"),
}
_JOURNAL_ADVICE = {
    "full": Message(N_("free space on the data partition (keep the journal and the key files); "
                       "the kiosk resumes by itself")),
    "read_only": Message(N_("the SD card may be failing: look at 'dmesg', copy the data folder "
                            "off, then remount it read-write or replace the card")),
    "replaced": Message(N_("restart the kiosk, and find out what changed the journal file")),
    "damaged": Message(N_("run 'kiosk journal verify' and keep the file for inspection")),
    "io": Message(N_("look at 'dmesg'; replace the SD card if errors repeat")),
}


def check_disk(config: Config) -> Check:
    """Free space on the data partition, counting the journal's reserve as space that can be
    freed; a read-only partition or data folder is named as such."""
    folder = config.data_dir
    disk = system.disk_state(folder)
    if disk is None:
        return Check("disk", None, Message(N_("unknown")))
    if disk.read_only:
        return Check("disk", False, Message(N_("the data partition is read-only ({path})"),
                                            {"path": str(folder)}), _JOURNAL_ADVICE["read_only"])
    if folder.exists() and not os.access(folder, os.W_OK):
        return Check("disk", False,
                     Message(N_("the data folder {path} is not writable by the kiosk's user"),
                             {"path": str(folder)}),
                     Message(N_("give the kiosk user write access to {folder}"),
                             {"folder": str(folder)}))
    reserved = reserve.size(folder)
    args = {"free": size_text(disk.free), "total": size_text(disk.total),
            "reserve": size_text(reserved)}
    summary = (Message(N_("{free} free of {total}, and a {reserve} reserve the kiosk can "
                          "release"), args) if reserved
               else Message(N_("{free} free of {total}"), args))
    if disk.full:
        full = (Message(N_("the data partition is full: {free} free of {total}, and a {reserve} "
                           "reserve the kiosk can release"), args) if reserved
                else Message(N_("the data partition is full: {free} free of {total}"), args))
        return Check("disk", False, full,
                     Message(N_("remove what is not the kiosk's from the data partition "
                                "(copies, exports, old logs); keep the journal and the key "
                                "files")))
    if disk.free < MIN_FREE_BYTES:
        return Check("disk", False, summary,
                     Message(N_("free space on the SD card; the journal needs room")))
    return Check("disk", True, summary)


def check_clock() -> Check:
    synced = system.clock_synchronised()
    if synced is None:
        return Check("clock", None, Message(N_("cannot tell on this system")))
    if synced:
        return Check("clock", True, Message(N_("synchronised")))
    return Check("clock", False, Message(N_("not synchronised; new rows are marked so")),
                 Message(N_("check the network and time servers: timedatectl status")))


def check_catalogue(config: Config) -> Check:
    """The e-book catalogue the screens show: which batch, how many titles licensed today; and
    a batch from the central server on its way, or the last pull's failure and why."""
    from content.catalogue import Catalogue
    from content.errors import ContentError
    from content.store import CatalogueStore

    pulled = delivery_status.read(config.data_dir, ReleaseKind.CATALOGUE)
    failed = pulled is not None and pulled.state is DeliveryState.FAILED
    current = CatalogueStore(config.catalogue_dir).current_dir()
    if current is None:
        return Check("ebooks", None, Message(N_("no e-book catalogue yet")),
                     Message(N_("the last pull from the central server failed: {why}"),
                             {"why": pulled.why or "?"}) if failed and pulled
                     else Message(N_("apply a batch: kiosk content apply BATCH.tar")))
    try:
        catalogue = Catalogue.open(current)
        try:
            titles = catalogue.count(None, datetime.now().date().isoformat())
        finally:
            catalogue.close()
    except ContentError as e:
        return Check("ebooks", False, Message(N_("unreadable: {error}"), {"error": str(e)}),
                     Message(N_("roll back with 'kiosk content rollback', then apply the "
                                "batch again")))
    args = {"titles": titles, "version": current.name}
    if pulled is None:
        pulled = DeliveryStatus(DeliveryState.IDLE)  # never pulled: nothing on its way
    args |= {"pending": pulled.version or "?", "why": pulled.why or "?",
             "done": f"{(pulled.done_bytes or 0) / 2**20:.0f}",
             "total": f"{(pulled.total_bytes or 0) / 2**20:.0f}"}
    if failed:
        return Check("ebooks", True,
                     Message(N_("{titles} titles licensed today ({version}); the last pull "
                                "from the central server failed: {why}"), args),
                     Message(N_("the kiosk keeps this catalogue; see journalctl -u kiosk-pull: "
                                "the next update window tries again")), warning=True)
    if not config.batch_public_key_path.is_file():
        return Check("ebooks", True, Message(N_("{titles} titles licensed today ({version})"),
                                             args),
                     Message(N_("no key for new batches ({path}): copy the library's "
                                "content-signing.pub onto the boot folder (installed at the "
                                "next boot) or to that path"),
                             {"path": str(config.batch_public_key_path)}), warning=True)
    if pulled.state is DeliveryState.DOWNLOADING:
        summary = N_("{titles} titles licensed today ({version}); batch {pending}: {done} of "
                     "{total} MB downloaded, the rest in the next update window")
    elif pulled.state is DeliveryState.DOWNLOADED:
        summary = N_("{titles} titles licensed today ({version}); batch {pending} is "
                     "downloaded and applied when nobody is using the kiosk")
    else:
        summary = N_("{titles} titles licensed today ({version})")
    return Check("ebooks", True, Message(summary, args))


def check_downloads(config: Config, live=None) -> Check:
    """This kiosk's own e-book download server (`[ebooks] serve`): the running app's `live`
    state (kiosk.ebooks.download_links.DownloadState), else (the doctor) what answers on its
    port. Warns when phones could not reach it: a loopback `listen`, or QR links whose host
    is not this kiosk."""
    from kiosk.ebooks.assemble import local_address

    books = config.ebooks
    if live is not None:
        address = f"{live.host}:{live.port}"
        if not live.listening:
            return Check("downloads", False,
                         Message(N_("cannot listen on {address}: {error}; the title pages "
                                    "show no download code"),
                                 {"address": address, "error": live.error or "unknown"}),
                         Message(N_("stop the program that holds the port, or set [ebooks] "
                                    "port to a free one, then restart the kiosk")))
        port, base = live.port, live.link_base
        args = {"address": address, "base": base}
        answer = _answer_at(base)
        if answer is not None:  # the fault; the advice names its cause when it can be seen
            return Check("downloads", False, Message(answer, args),
                         _unreachable(books.listen, base, port)
                         or Message(N_("a firewall on this kiosk, or a server that stopped "
                                       "answering: restart the kiosk")))
        summary = Message(N_("running on {address}; the QR codes point to {base}, which can "
                             "be reached") if base else
                          N_("running on {address}"), args)
    else:
        address = f"{books.listen}:{books.port}"
        who = _who_listens(books.listen, books.port)
        if who == "other":
            return Check("downloads", False,
                         Message(N_("another program holds port {port}"), {"port": books.port}),
                         Message(N_("stop the program that holds the port, or set [ebooks] "
                                    "port to a free one, then restart the kiosk")))
        if who == "nobody":
            return Check("downloads", None,
                         Message(N_("nothing answers on {address}"), {"address": address}),
                         Message(N_("is the kiosk app running? its log says why the download "
                                    "server did not start: journalctl -u kiosk")))
        port = books.port
        base = books.download_base or f"http://{local_address()}:{books.port}"
        summary = Message(N_("serving on {address}, QR links to {base}"),
                          {"address": address, "base": base})
    warning = _unreachable(books.listen, base, port)
    if warning is not None:
        return Check("downloads", True, summary, warning, warning=True)
    return Check("downloads", True, summary)


def _unreachable(listen: str, base: str, port: int) -> Message | None:
    """Why phones on the library Wi-Fi could not download, though the server runs."""
    from urllib.parse import urlsplit

    from kiosk.ebooks.addresses import is_loopback, is_this_machine

    if is_loopback(listen):
        return Message(N_("it listens on {listen}, which phones cannot reach: set [ebooks] "
                          "listen = \"0.0.0.0\""), {"listen": listen})
    try:
        url = urlsplit(base)
        host, link_port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        host, link_port = "", 0
    if not host or is_loopback(host):
        return Message(N_("the QR links point at {host}, which phones cannot reach: connect "
                          "the kiosk to the library network, or set [ebooks] download_base"),
                       {"host": host or base})
    mine = is_this_machine(host)
    if mine is None:
        return Message(N_("cannot tell whether {host} in the QR links is this kiosk: the "
                          "name cannot be looked up"), {"host": host})
    if not mine:
        return Message(N_("the QR links point at {host}, which is not an address of this "
                          "kiosk: set [ebooks] download_base to this kiosk's address, or "
                          "leave it empty"), {"host": host})
    if link_port != port:
        return Message(N_("the QR links use port {link_port}, the server listens on {port}: "
                          "make [ebooks] download_base and port agree"),
                       {"link_port": link_port, "port": port})
    return None


def _answer_at(base: str) -> str | None:
    """Why the kiosk's own download server does not answer at `base`, where the QR codes send
    phones (a message id), or None when it does, or cannot be asked (https: a proxy's)."""
    from urllib.parse import urlsplit

    try:
        url = urlsplit(base)
        host, port = url.hostname or "", url.port or 80
    except ValueError:
        return None
    if url.scheme != "http" or not host:
        return None
    who = _who_listens(host, port)
    if who == "ours":
        return None
    if who == "other":
        return N_("running on {address}, but the QR codes point to {base}, where another "
                  "program answers")
    return N_("running on {address}, but the QR codes point to {base}, where nothing answers")


def _who_listens(listen: str, port: int) -> str:
    """"ours" when the kiosk's download server answers on `port`, "other" when another
    program does, "nobody" when nothing does. A HEAD request, which is never counted."""
    host = "127.0.0.1" if listen in ("0.0.0.0", "") else ("::1" if listen == "::" else listen)
    try:
        connection = socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S)
    except OSError:  # refused, or an address that is not this machine's
        return "nobody"
    try:
        with connection:
            connection.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            answer = connection.recv(4096)
    except OSError:
        return "other"  # it took the connection, and then no HTTP came back in time
    return "ours" if b"\r\nServer: kiosk-downloads" in answer else "other"


def check_device(name: str, source: str, live: tuple[str, str] | None,
                 attached: list | None = None) -> Check:
    """The running driver's state when there is one, else whether the device is plugged in."""
    check_name = f"device:{name}"
    if live is not None:
        state, detail = live
        return Check(check_name, state == "connected",
                     Message(N_("device reports {state} {detail}"),
                             {"state": state, "detail": detail}))
    parsed = parse_source(source)
    if parsed.scheme == "sim":
        return Check(check_name, True, Message(N_("simulated ({source})"), {"source": source}))
    found = discovery.resolve(parsed, attached if attached is not None else discovery.attached()[0])
    where = [d.path for d in found]
    if not where and not discovery.USB_ID.match(parsed.target) and os.path.exists(parsed.target):
        where = [os.path.realpath(parsed.target)]
    if where:
        return Check(check_name, True, Message(N_("plugged in at {path}"),
                                               {"path": ", ".join(where)}))
    return Check(check_name, False, Message(N_("not found: {source}"), {"source": source}),
                 Message(N_("check the cable; `kiosk devices list` shows what is attached")))


def check_ils(config: Config) -> Check:
    """A real SIP2 conversation: connect, log in, SC status, with a short timeout. What the SC
    status reports (online, checkout, checkin) is only a warning: the kiosk does not enforce
    it, and servers report a policy they do not enforce either. Text that looks like another
    charset than `[ils] charset` (the library's name, screen messages) is a warning too."""
    from dataclasses import replace as replace_settings

    from kiosk.sip2.charset_guess import NAMES
    from kiosk.sip2.client import IlsSettings, Sip2Client
    from kiosk.sip2.errors import IlsRefused, IlsUnavailable

    settings = IlsSettings.from_config(config)
    if not settings.host:
        return Check("ils", None, Message(N_("not configured")),
                     Message(N_("set [ils] host and port")))
    settings = replace_settings(settings, timeout_s=min(settings.timeout_s, NETWORK_TIMEOUT_S),
                                retries=0)
    address = settings.address
    client = Sip2Client(settings)
    started = time.monotonic()
    try:
        sc = client.connect()
        hint = client.charset_hint
    except IlsRefused:
        return Check("ils", False, Message(N_("{address} refused the SIP2 login"),
                                           {"address": address}),
                     Message(N_("check [ils] username and password with the library "
                                "system's SIP2 account")))
    except IlsUnavailable as e:
        return Check("ils", False, Message(N_("cannot connect to {address}: {error}"),
                                           {"address": address, "error": _sip2_why(e, address)}),
                     Message(N_("check the network cable and the ILS's SIP2 service")))
    except KioskError as e:
        return Check("ils", False, Message(N_("{address} does not answer in SIP2: {error}"),
                                           {"address": address, "error": str(e)}),
                     Message(N_("check [ils] port, tls, charset and checksums")))
    finally:
        client.close()
    ms = round((time.monotonic() - started) * 1000)
    flags = {"address": address, "ms": ms, "online": _yn(sc.online),
             "checkout": _yn(sc.checkout_ok), "checkin": _yn(sc.checkin_ok)}
    summary = Message(N_("SIP2 at {address}: online {online}, checkout {checkout}, checkin "
                         "{checkin} ({ms} ms)"), flags)
    if hint:
        return Check("ils", True, summary,
                     Message(N_("the ILS's text looks like {name}: set [ils] charset = {value}"),
                             {"name": NAMES.get(hint, hint), "value": f'"{hint}"'}),
                     warning=True)
    refused = [name for name, allowed in (("checkout", sc.checkout_ok),
                                          ("checkin", sc.checkin_ok)) if not allowed]
    if refused:
        return Check("ils", True, summary, Message(
            N_("the ILS's SC status reports {flags} N, yet the kiosk lends and takes returns "
               "anyway: if the ILS should refuse them, tell its administrator; if it is only "
               "the report, set {setting} in the institution's <policy> of the SIP server's "
               "config (SIPconfig.xml on Koha, oils_sip.xml on Evergreen)"),
            {"flags": " and ".join(refused),
             "setting": " ".join(f'{name}="true"' for name in refused)}), warning=True)
    if not sc.online:
        return Check("ils", True, summary,
                     Message(N_("the ILS's SC status says it is offline, yet it answers: the "
                                "kiosk carries on; tell the ILS's administrator")),
                     warning=True)
    return Check("ils", True, summary)


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"


def _sip2_why(error: Exception, address: str) -> str:
    """The client's message without the address the summary already names."""
    text = str(error)
    for prefix in (f"cannot connect to {address}: ", f"{address} "):
        text = text.removeprefix(prefix)
    return text


def check_central(config: Config) -> Check:
    """Whether the central server answers, whether this kiosk has its token, and how the
    uploads go (the uploader's state file: its last error, and the rows not yet sent)."""
    url = config.central.url
    if not url:
        return Check("central", None, Message(N_("not configured")),
                     Message(N_("set [central] url")))
    # Here, not at the top: requests costs the app start-up time and memory.
    from kiosk.upload.sender import Central, read_token

    token_path = config.central_token_path
    try:
        token = read_token(token_path)
    except CentralRequestError as e:
        # A missing file said in the screen's language; what else is wrong, as read_token says.
        summary = (Message(N_("no token at {path}: the file is missing"),
                           {"path": str(token_path)})
                   if not token_path.exists() else
                   Message(N_("no token: {error}"), {"error": str(e)}))
        return Check("central", False, summary,
                     Message(N_("make one with 'kiosk-central kiosk add' on the server and "
                                "save it as {path}"), {"path": str(token_path)}))
    try:
        with Central(url, token, timeout=CENTRAL_TIMEOUT) as central:
            central.health()
    except CentralRequestError as e:
        if e.status is None:
            return Check("central", False, Message(N_("cannot reach {url}: {error}"),
                                                   {"url": url, "error": e.reason}),
                         Message(N_("check the network and [central] url")))
        if e.status >= 500:
            return Check("central", False,
                         Message(N_("{url} answers with an error (HTTP {code})"),
                                 {"url": url, "code": e.status}),
                         Message(N_("tell the central server's administrator")))
        return Check("central", False, Message(N_("{url} is not the central server: {error}"),
                                               {"url": url, "error": e.reason}),
                     Message(N_("check the network and [central] url")))
    try:
        uploads = upload_state.load(upload_state.state_path(config.journal_path))
        unsent = _unsent_rows(config)
    except JournalError as e:
        return Check("central", False, Message(N_("unreadable: {error}"), {"error": str(e)}),
                     Message(N_("run 'kiosk journal verify' and keep the file for inspection")))
    if uploads.last_error:
        return Check("central", False,
                     Message(N_("reachable, but the last upload failed: {error}"),
                             {"error": uploads.last_error}),
                     Message(N_("see 'kiosk upload' and its log: journalctl -u kiosk-upload")))
    if uploads.last_upload_utc is None:
        return Check("central", True, Message(N_("reachable; {unsent} rows not yet uploaded, "
                                                 "none uploaded so far"), {"unsent": unsent}))
    when = parse_utc(uploads.last_upload_utc).astimezone()
    return Check("central", True,
                 Message(N_("reachable; {unsent} rows not yet uploaded, last upload {when}"),
                         {"unsent": unsent, "when": when.strftime("%Y-%m-%d %H:%M")}))


def check_offline(config: Config) -> Check:
    """Transactions accepted while the ILS was away: how many wait, how many it refused."""
    return read_offline(config)[0]


def read_offline(config: Config) -> tuple[Check, tuple]:
    """The offline check and the refused transactions staff must look at."""
    from kiosk.ils.offline_store import OfflineStore, OfflineStoreError, store_path

    path = store_path(config)
    if not path.exists():
        if not config.circulation.offline:
            return Check("offline", None, Message(N_("offline mode is off"))), ()
        return Check("offline", True, Message(N_("nothing kept offline yet"))), ()
    try:
        with OfflineStore(path, create=False) as store:
            return offline_check(store), tuple(store.refused())
    except OfflineStoreError as e:
        return Check("offline", False, Message(N_("unreadable: {error}"), {"error": str(e)}),
                     Message(N_("keep the file: it may hold transactions the library system "
                                "does not have yet"))), ()


def read_unsettled(config: Config, *, now: datetime | None = None) -> tuple[Check, tuple]:
    """The check of transactions with no known result, and their intent rows for staff."""
    path = config.journal_path
    if not path.exists():
        return Check("unsettled", None, Message(N_("no journal yet"))), ()
    cutoff = (now or datetime.now(timezone.utc)).timestamp() - UNSETTLED_AFTER_S
    try:
        with Journal.open_existing(path) as journal:
            rows = tuple(row for row in journal.open_intents()
                         if parse_utc(row.time_utc).timestamp() < cutoff)
    except JournalError as e:
        return Check("unsettled", False, Message(N_("unreadable: {error}"), {"error": str(e)}),
                     Message(N_("run 'kiosk journal verify' and keep the file for inspection"))), ()
    if not rows:
        return Check("unsettled", True, Message(N_("every transaction has a known result"))), ()
    return (Check("unsettled", False,
                  Message(N_("transactions with no known result: {count}"),
                          {"count": len(rows)}),
                  Message(N_("look each item up in the library system, put it right, then mark "
                             "it checked on the admin screen"))), rows)


def offline_check(store) -> Check:
    """The offline check from an open `OfflineStore`."""
    pending, refused = store.total_pending(), store.total_refused()
    summary = Message(N_("{pending} waiting for the library system, {refused} refused by it"),
                      {"pending": pending, "refused": refused})
    if refused:
        return Check("offline", False, summary,
                     Message(N_("settle each refused transaction at the counter, then mark it "
                                "dealt with on the admin screen")))
    return Check("offline", True, summary)


def with_offline(report: StatusReport, store) -> StatusReport:
    """`report` with the offline check and list read again, after staff dealt with one."""
    fresh = offline_check(store)
    checks = tuple(fresh if check.name == "offline" else check for check in report.checks)
    return replace(report, checks=checks, offline_refused=tuple(store.refused()))


def _unsent_rows(config: Config) -> int:
    if not config.journal_path.exists():
        return 0
    with Journal.open_existing(config.journal_path) as journal:
        return journal.unsent_count()


def _why(error: OSError) -> str:
    if isinstance(error, socket.timeout):
        return f"no answer within {NETWORK_TIMEOUT_S:g} s"
    return error.strerror or str(error)
