"""`kiosk doctor`'s checks of the machine under the kiosk: the service, the watchdogs, the root
file system, the data partition (what is mounted where), the SSH host keys' fingerprints, what
boot-setup found on the card, the network, the time, and the update slots (RAUC, on a kiosk
flashed from the SD-card image).

Each check asks the operating system through a `Runner` (systemctl, ip, timedatectl ...) and
/proc, so tests feed recorded `systemctl show` output where no systemd runs and use the real
tools where they can. Nothing here raises: a machine without systemd (a developer's PC, a
container) gets "--" (cannot be known here) for what only systemd can tell.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kiosk import boot_report, commands, system
from kiosk.bootsetup import data_partition, host_keys
from kiosk.bootsetup.paths import BootPaths
from kiosk.commands import Runner, parse_properties
from kiosk.config import Config
from kiosk.delivery import status as delivery_status
from kiosk.delivery.releases import ReleaseKind
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.i18n import N_
from kiosk.sizes import size_text
from kiosk.status import Check, Message
from kiosk.update import state as update_state
from kiosk.update.rauc import RaucError
from kiosk.update.state import UpdatePaths, UpdateState

SERVICE = "kiosk.service"
TIMESYNCD = "systemd-timesyncd.service"
DATA_LABEL_PATH = "/dev/disk/by-label/" + data_partition.LABEL
NO_SYSTEMD = Message(N_("not running under systemd here"))
OFF_VALUES = ("", "0", "infinity", "0s")  # a watchdog timeout that means "off"


def gather(config: Config, *, runner: Runner = commands.run,
           paths: BootPaths = BootPaths(),
           update_paths: UpdatePaths = UpdatePaths()) -> list[Check]:
    systemd = paths.systemd_running
    service = _show(runner, SERVICE, "LoadState", "ActiveState", "SubState", "NRestarts",
                    "StatusText", "WatchdogUSec") if systemd else None
    return [check_service(service), check_watchdog(service, runner, paths, systemd),
            check_root(paths), check_data(config, runner, paths, systemd),
            check_ssh(paths, runner), check_boot_setup(paths), check_network(runner),
            check_time(config, runner, systemd),
            check_update(runner, update_paths,
                         delivery_status.read(config.data_dir, ReleaseKind.SYSTEM))]


def _show(runner: Runner, unit: str | None, *properties: str) -> dict[str, str] | None:
    """`systemctl show` of a unit (None: the manager itself); None when it cannot answer."""
    argv = ["systemctl", "show", *([unit] if unit else []), "-p", ",".join(properties)]
    result = runner(argv)
    return parse_properties(result.stdout) if result.ok else None


def check_service(service: dict[str, str] | None) -> Check:
    if service is None:
        return Check("service", None, NO_SYSTEMD)
    if service.get("LoadState") == "not-found":
        return Check("service", None, Message(N_("{unit} is not installed"), {"unit": SERVICE}),
                     Message(N_("install the kiosk with './setup.sh install'")))
    args = {"unit": SERVICE, "state": service.get("ActiveState", "?"),
            "sub": service.get("SubState", "?"), "restarts": service.get("NRestarts", "0"),
            "status": service.get("StatusText") or "-"}
    summary = Message(N_("{unit} {state} ({sub}), restarted {restarts} times; status: {status}"),
                      args)
    if args["state"] != "active":
        return Check("service", False, summary,
                     Message(N_("see why: journalctl -u kiosk -b")))
    if args["restarts"] not in ("", "0"):
        return Check("service", True, summary,
                     Message(N_("it restarted since boot: see why with journalctl -u kiosk -b")),
                     warning=True)
    return Check("service", True, summary)


def check_watchdog(service: dict[str, str] | None, runner: Runner, paths: BootPaths,
                   systemd: bool) -> Check:
    device = (paths.dev / "watchdog").exists()
    if not systemd or service is None:
        return Check("watchdog", None, NO_SYSTEMD)
    manager = _show(runner, None, "RuntimeWatchdogUSec") or {}
    app = _timespan(service.get("WatchdogUSec", ""))
    hardware = _timespan(manager.get("RuntimeWatchdogUSec", ""))
    args = {"app": app or "off", "hardware": hardware or "off",
            "device": "/dev/watchdog" if device else "no /dev/watchdog"}
    summary = Message(N_("kiosk.service {app}, hardware {hardware} ({device})"), args)
    if not app:
        return Check("watchdog", False, summary,
                     Message(N_("kiosk.service has no WatchdogSec: reinstall with "
                                "'./setup.sh install'")))
    if not hardware or not device:
        return Check("watchdog", True, summary,
                     Message(N_("no hardware watchdog: a kernel hang is not rebooted (normal "
                                "on a PC or in a container; on a Pi check that /dev/watchdog "
                                "exists (driver bcm2835_wdt) and RuntimeWatchdogSec is set: "
                                "./setup.sh install sets it)")), warning=True)
    return Check("watchdog", True, summary)


def _timespan(value: str) -> str:
    """systemd prints "30s" (newer) or microseconds (older); "" when off."""
    value = value.strip()
    if value in OFF_VALUES:
        return ""
    if value.isdigit():
        return f"{int(value) / 1_000_000:g}s"
    return value


def check_root(paths: BootPaths) -> Check:
    """Read-only or read-write, from the kernel's mount table. Both are fine: a Pi's image
    has a read-only root, a PC install a read-write one; this only says which."""
    mount = _mount_of(paths, Path("/"))
    if mount is None:
        return Check("root", None, Message(N_("unknown")))
    mode = "read-only" if "ro" in mount.options else "read-write"
    return Check("root", True, Message(N_("{mode} ({fstype})"),
                                       {"mode": mode, "fstype": mount.fstype}))


def _mount_of(paths: BootPaths, point: Path) -> data_partition.Mount | None:
    try:
        return data_partition.find_mount(paths.mountinfo.read_text(), point)
    except OSError:
        return None


def check_data(config: Config, runner: Runner, paths: BootPaths, systemd: bool) -> Check:
    """What is mounted where: /data (the KIOSKDATA partition, or a plain folder on a PC) and the
    kiosk's data folder (/data/kiosk bound at /var/lib/kiosk, or a plain folder); its size and
    free space, and what fsck said about the partition at this boot."""
    folder, top = config.data_dir, paths.data_mount
    disk = system.disk_state(folder)
    space = ({"free": size_text(disk.free), "total": size_text(disk.total)}
             if disk is not None else {"free": "?", "total": "?"})
    top_mount, folder_mount = _mount_of(paths, top), _mount_of(paths, folder)
    args = {"data": str(top), "path": str(folder), **space}
    mount = top_mount or folder_mount
    if mount is None:
        expected = _fstab_source(paths.fstab, top)
        if expected:  # nofail: the boot went on without it, the kiosk's files are on the root
            return Check("data", False,
                         Message(N_("/etc/fstab mounts {source} at {data}, but nothing is "
                                    "mounted there: the kiosk's files are on the root"),
                                 {**args, "source": expected}),
                         Message(N_("is the data partition there and sound? See systemctl "
                                    "status data.mount and journalctl -b")))
        return Check("data", True, Message(N_("{data} and {path} are plain folders on the root: "
                                              "{free} free of {total}"), args))
    part = data_partition.read_partition(paths.sys_dev_block, mount.major, mount.minor)
    args["device"] = str(paths.dev / part.name) if part else mount.source
    args["fstype"] = mount.fstype
    labelled = _is_kioskdata(mount, runner, args["device"])
    fsck = _fsck_result(runner) if systemd and labelled else None
    args["fsck"] = fsck[0] if fsck else "unknown here"
    bound = (top_mount is not None and folder_mount is not None
             and (folder_mount.major, folder_mount.minor) == (top_mount.major, top_mount.minor)
             and folder_mount.root == top_mount.root.rstrip("/") + "/kiosk")
    if top_mount is None:  # the partition straight at the data folder: before /data
        return Check("data", True, Message(N_("{path} is {device} ({fstype}) mounted there "
                                              "directly, not at {data}: {free} free of {total}"),
                                           args),
                     Message(N_("the layout before /data: run ./setup.sh install again and "
                                "reboot (the kiosk's files then move to {data}/kiosk)"), args),
                     warning=True)
    if not bound:
        return Check("data", False, Message(N_("{data} is {device} ({fstype}), but {path} is not "
                                               "its folder kiosk/: the kiosk's files are not on "
                                               "the data partition"), args),
                     Message(N_("see systemctl status var-lib-kiosk.mount "
                                "kiosk-data-layout.service; ./setup.sh install writes the "
                                "fstab lines")))
    if not labelled:
        return Check("data", True, Message(N_("{data} is {device} ({fstype}), {path} is its "
                                              "folder kiosk/ (bind mount): {free} free of "
                                              "{total}"), args))
    summary = Message(N_("{data} is the KIOSKDATA partition {device}, {path} is its folder "
                         "kiosk/ (bind mount): {free} free of {total}; fsck at boot: {fsck}"),
                      args)
    if fsck and fsck[1] is False:
        return Check("data", False, summary,
                     Message(N_("the data partition has errors fsck could not fix: copy the "
                                "data folder off and replace the SD card")))
    if fsck and fsck[1] is None:
        return Check("data", True, summary,
                     Message(N_("fsck repaired the data partition at boot: the card may be "
                                "failing, or power was cut; keep an eye on it")), warning=True)
    return Check("data", True, summary)


def check_ssh(paths: BootPaths, runner: Runner) -> Check:
    """The SSH host keys' fingerprints, for a technician to compare when first connecting:
    read from the keys when we may (root), else from boot-setup's report."""
    found = host_keys.fingerprints((paths.host_keys_dir, paths.host_keys_fallback), runner)
    if found:
        keys = ", ".join(map(str, found))
        in_ram = any(f.path.parent == paths.host_keys_fallback for f in found)
    else:
        report = boot_report.read(paths.report)
        keys = report.facts.get(host_keys.FACT, "") if report else ""
        in_ram = False
    args = {"keys": keys, "folder": str(paths.host_keys_dir),
            "fallback": str(paths.host_keys_fallback)}
    if not keys:
        return Check("ssh", None, Message(N_("no SSH host key found in {folder}"), args),
                     Message(N_("see journalctl -u kiosk-ssh-host-keys -b")))
    if in_ram:
        return Check("ssh", True, Message(N_("host keys (in {fallback}, for this boot only): "
                                             "{keys}"), args),
                     Message(N_("{folder} cannot be written: is the data partition mounted? "
                                "The host key changes at every boot until it is")), warning=True)
    return Check("ssh", True, Message(N_("host keys: {keys}"), args))


def _fstab_source(fstab: Path, mount_point: Path) -> str:
    """What /etc/fstab mounts at `mount_point` ("" for nothing)."""
    try:
        lines = fstab.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and fields[1] == str(mount_point):
            return fields[0]
    return ""


def _is_kioskdata(mount: data_partition.Mount, runner: Runner, device: str) -> bool:
    try:  # udev's link, readable by anyone
        return os.stat(DATA_LABEL_PATH).st_rdev == os.makedev(mount.major, mount.minor)
    except OSError:
        pass
    label = runner(["blkid", "-p", "-s", "LABEL", "-o", "value", device])  # needs root
    return label.ok and label.stdout.strip() == data_partition.LABEL


def _fsck_result(runner: Runner) -> tuple[str, bool | None] | None:
    """What systemd-fsck@ said about KIOSKDATA at this boot: (words, True clean / None repaired
    / False errors left), None when unknown. fsck's exit status: 0 clean, 1 errors corrected,
    2 corrected and reboot wanted, 4 or more errors left or fsck failed."""
    escaped = runner(["systemd-escape", "--path", DATA_LABEL_PATH])
    if not escaped.ok:
        return None
    unit = f"systemd-fsck@{escaped.stdout.strip()}.service"
    shown = _show(runner, unit, "LoadState", "ActiveState", "Result", "ExecMainStatus")
    if shown is None or shown.get("LoadState") == "not-found":
        return None
    if shown.get("ActiveState") != "active" and shown.get("Result") == "success":
        return ("did not run", True)
    text = shown.get("ExecMainStatus") or "0"
    status = int(text) if text.isdigit() else 8
    if status == 0 and shown.get("Result") == "success":
        return ("clean", True)
    if status in (1, 2):
        return (f"errors corrected (exit {status})", None)
    return (f"{shown.get('Result', '?')} (exit {status})", False)


def check_boot_setup(paths: BootPaths) -> Check:
    """What `kiosk boot-setup` found on the card at this boot (its report in /run)."""
    report = boot_report.read(paths.report)
    if report is None:
        return Check("boot-setup", None, Message(N_("has not run at this boot")))
    not_grown = report.facts.get(data_partition.NOT_GROWN_FACT)
    if not report.ok:
        first = report.problems[0]
        return Check("boot-setup", False,
                     Message(N_("{count} problems on the boot folder, first: {file}: {message}"),
                             {"count": len(report.problems), "file": first.file,
                              "message": first.message.splitlines()[0]}),
                     Message(N_("correct the file on the SD card's boot folder and restart; "
                                "all problems: journalctl -u kiosk-firstboot -b")))
    if not_grown:
        return Check("boot-setup", True, Message(N_("data partition: {state}"),
                                                 {"state": not_grown}),
                     Message(N_("the data partition did not grow to fill the card: see "
                                "journalctl -u kiosk-firstboot")), warning=True)
    return Check("boot-setup", True,
                 Message(N_("no problem on the boot folder; hostname {hostname}"),
                         {"hostname": report.facts.get("hostname", "?")}))


def check_network(runner: Runner) -> Check:
    """A default route, and the address of its interface (`ip -j`)."""
    routes = runner(["ip", "-j", "route", "show", "default"])
    if not routes.ok:
        return Check("network", None, Message(N_("cannot tell: {error}"), {"error": routes.why}))
    try:
        default = (json.loads(routes.stdout or "[]") or [None])[0]
    except ValueError:
        default = None
    if not default:
        return Check("network", False, Message(N_("no default route: not connected")),
                     Message(N_("check the network cable, or wifi.toml on the boot folder")))
    device = str(default.get("dev", "?"))
    shown = runner(["ip", "-j", "addr", "show", "dev", device])
    addresses: list[str] = []
    try:
        for link in json.loads(shown.stdout or "[]") if shown.ok else []:
            addresses += [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])
                          if a.get("scope") == "global"]
    except (ValueError, KeyError, TypeError):
        pass
    args = {"device": device, "gateway": default.get("gateway", "-"),
            "address": ", ".join(addresses) or "no address"}
    summary = Message(N_("{device}: {address}, gateway {gateway}"), args)
    if not addresses:
        return Check("network", False, summary, Message(N_("no address: is DHCP working?")))
    return Check("network", True, summary)


def check_time(config: Config, runner: Runner, systemd: bool) -> Check:
    """Where the clock comes from: the servers configured and timesyncd's state. Whether it
    is synchronised is the `clock` check's verdict; this one fails only when timesyncd, the
    one thing that sets it, is not running."""
    synced = system.clock_synchronised()
    servers = ", ".join(config.ntp_servers) or "the system's defaults"
    timesyncd, running = "unknown here", None
    if systemd:
        shown = _show(runner, TIMESYNCD, "ActiveState", "SubState")
        if shown is not None:
            timesyncd = f"{shown.get('ActiveState', '?')} ({shown.get('SubState', '?')})"
            running = shown.get("ActiveState") == "active"
    if running:  # else timedatectl would wait D-Bus's 25 s for a timesyncd that is not there
        talking = runner(["timedatectl", "show-timesync", "-p", "ServerName", "--value"])
        if talking.ok and talking.stdout.strip():
            timesyncd += f", talking to {talking.stdout.strip()}"
    args = {"synced": {True: "synchronised", False: "not synchronised",
                       None: "cannot tell"}[synced], "servers": servers,
            "timesyncd": timesyncd}
    summary = Message(N_("clock {synced}; servers: {servers}; timesyncd: {timesyncd}"), args)
    if running is False:
        return Check("time", False, summary,
                     Message(N_("start it: systemctl enable --now systemd-timesyncd")))
    if synced is False:
        return Check("time", True, summary,
                     Message(N_("the time servers cannot be reached: set [time] ntp_servers to "
                                "the library's own server")), warning=True)
    return Check("time", True if synced or running else None, summary)


def check_update(runner: Runner, paths: UpdatePaths = UpdatePaths(),
                 pulled: DeliveryStatus | None = None) -> Check:
    """The booted root slot and its version, the other slot, and whether the last update is on
    trial or fell back (kiosk.update.state); then an update from the central server on its way
    or stuck (`pulled`, kiosk.delivery.status). A `setup.sh install` kiosk has no slots."""
    if not paths.from_image:
        return Check("update", None, Message(N_("installed with setup.sh install: update with "
                                                "./setup.sh install again")))
    try:
        view = update_state.gather(runner, paths)
    except RaucError as e:
        return Check("update", False, Message(N_("rauc cannot tell the slots: {error}"),
                                              {"error": str(e)}),
                     Message(N_("see why: systemctl status rauc")))
    other = view.other
    args = {"slot": view.slot or "?", "version": view.version or "?",
            "other": other.bootname if other and other.bootname else "?",
            "other_version": (other.bundle_version if other and other.bundle_version
                              else "-")}
    if view.state is UpdateState.FELL_BACK:
        return Check("update", True,
                     Message(N_("fell back: the update {other_version} in slot {other} did not "
                                "get ready on its trial boot; slot {slot} runs {version}"), args),
                     Message(N_("see why in that boot's log (journalctl --list-boots), then "
                                "install a fixed bundle")), warning=True)
    if view.state is UpdateState.TRIAL:
        return Check("update", True,
                     Message(N_("slot {slot} ({version}) on trial: kept once the kiosk is "
                                "ready, else it falls back to slot {other}"), args),
                     Message(N_("wait for kiosk-update-confirm.service: systemctl status "
                                "kiosk-update-confirm")), warning=True)
    if pulled is not None and delivery_status.as_running(pulled, view.version).pending:
        return check_delivery(pulled, args)
    return Check("update", True, Message(N_("slot {slot}: {version}; other slot {other}: "
                                            "{other_version}"), args))


def check_delivery(pulled: DeliveryStatus, args: dict[str, str]) -> Check:
    """An update from the central server that is on its way, or failed and why."""
    args = {**args, "pending": pulled.version or "?", "why": pulled.why or "?",
            "done": f"{(pulled.done_bytes or 0) / 2**20:.0f}",
            "total": f"{(pulled.total_bytes or 0) / 2**20:.0f}"}
    if pulled.state is DeliveryState.FAILED:
        return Check("update", True,
                     Message(N_("slot {slot}: {version}; the update {pending} from the central "
                                "server failed: {why}"), args),
                     Message(N_("see journalctl -u kiosk-pull; the next update window "
                                "tries again")), warning=True)
    if pulled.state is DeliveryState.DOWNLOADING:
        summary = N_("slot {slot}: {version}; update {pending} from the central server: {done} "
                     "of {total} MB downloaded, the rest in the next update window")
    elif pulled.state is DeliveryState.DOWNLOADED:
        summary = N_("slot {slot}: {version}; update {pending} downloaded, not yet installed")
    elif pulled.state is DeliveryState.WAITING:
        summary = N_("slot {slot}: {version}; update {pending} is installed in slot {other} and "
                     "waits for the next update window: the kiosk was in use")
    else:
        summary = N_("slot {slot}: {version}; update {pending} is installed in slot {other}: "
                     "the kiosk restarts into it when nobody is using it")
    return Check("update", True, Message(summary, args))
