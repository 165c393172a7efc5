"""One boot-setup run: the steps in order, each one's problems gathered, none able to stop the
others. The caller writes the report.

Order: the config first (every later step reads it), then what moves secrets off the card
(token, Wi-Fi), the SSH keys, the hostname and time servers, the SSH host keys' fingerprints
(made before by kiosk-ssh-host-keys.service; the report carries them for the doctor), and the
data partition last, so a slow or failing resize never keeps a secret on the card.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from kiosk import commands
from kiosk.boot_report import BootReport
from kiosk.bootsetup import (
    boot_folder,
    data_folder,
    data_partition,
    files,
    host_keys,
    hostname,
    ntp,
    signing_key,
    ssh_keys,
    token,
    wifi,
)
from kiosk.bootsetup.boot_folder import KIOSK_TOML
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from kiosk.commands import Runner
from kiosk.config import Config, load_files
from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

WIFI_STORE_NAME = "wifi.toml"  # in the data folder, root 0600


def run(paths: BootPaths = BootPaths(), *, boot_dir: Path | None = None,
        root_writable: bool | None = None, runner: Runner = commands.run,
        set_hostname: Callable[[str], None] = socket.sethostname,
        current_hostname: Callable[[], str] = socket.gethostname) -> BootReport:
    """Apply the boot folder (`boot_dir`, else the one found) and the data partition.
    `root_writable` None: ask the file system holding /etc."""
    outcome = Outcome()
    if boot_dir is None:
        boot_dir = boot_folder.find(paths.boot_dirs)
    elif not boot_dir.is_dir():
        outcome.warn(f"{boot_dir}: no such folder; nothing read from a boot folder")
        boot_dir = None
    outcome.boot_dir = str(boot_dir or "")
    if boot_dir is None:
        outcome.note("no boot folder found (" + ", ".join(map(str, paths.boot_dirs)) + ")")
    if root_writable is None:
        root_writable = is_writable(paths.etc_hostname.parent)
    outcome.facts["root_fs"] = "read-write" if root_writable else "read-only"
    config = load_config(paths.base_config, boot_dir, outcome)
    owner = files.user_ids(paths.kiosk_user)
    steps: list[tuple[str, Callable[[], object]]] = [  # what a step returns is not used
        ("data folder", lambda: data_folder.claim(config.data_dir, owner, outcome)),
        (boot_folder.CENTRAL_TOKEN, lambda: token.install(
            boot_dir, config.central_token_path, owner, outcome)),
        (boot_folder.WIFI_TOML, lambda: wifi.apply(
            boot_dir, config.data_dir / WIFI_STORE_NAME, paths.wpa_conf, paths.wifi_network,
            outcome, reload_network=lambda: reload_networkd(paths, runner, outcome))),
        (boot_folder.AUTHORIZED_KEYS, lambda: ssh_keys.install(
            boot_dir, paths.authorized_keys_dir, outcome)),
        (boot_folder.CONTENT_SIGNING_KEY, lambda: signing_key.install(
            boot_dir, config.batch_public_key_path, owner, outcome)),
        ("hostname", lambda: hostname.apply(
            config.kiosk.id, paths.etc_hostname, paths.etc_hosts, root_writable, outcome,
            set_name=set_hostname, current_name=current_hostname)),
        ("ntp", lambda: ntp.apply(config.ntp_servers, paths.timesyncd_dropin,
                                  paths.systemd_running, runner, outcome)),
        ("ssh host keys", lambda: report_host_keys(paths, runner, outcome)),
        ("data partition", lambda: data_partition.grow(paths, runner, outcome)),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as e:  # a bug in one step must not keep the others from running
            log.debug("%s failed", name, exc_info=True)
            outcome.problem(name, f"boot-setup failed here ({type(e).__name__}: {e}); please "
                                  "report this with 'journalctl -u kiosk-firstboot'")
    return outcome.report()


def report_host_keys(paths: BootPaths, runner: Runner, outcome: Outcome) -> None:
    """The fingerprints a technician compares when first connecting (`kiosk doctor` shows
    them from the report: /data/ssh is root's alone)."""
    found = host_keys.fingerprints((paths.host_keys_dir, paths.host_keys_fallback), runner)
    if found:
        outcome.facts[host_keys.FACT] = ", ".join(map(str, found))
        outcome.note("SSH host keys: " + ", ".join(f"{f} ({f.path})" for f in found))
    else:
        outcome.warn(f"no SSH host key in {paths.host_keys_dir}: see "
                     "journalctl -u kiosk-ssh-host-keys -b")


def reload_networkd(paths: BootPaths, runner: Runner, outcome: Outcome) -> None:
    """Tell a running systemd-networkd that its .network files changed (a rerun of
    boot-setup; at boot it usually starts after us and reads them itself)."""
    if not paths.systemd_running:
        return
    result = runner(["networkctl", "reload"])
    if not result.ok:
        outcome.note(f"systemd-networkd not reloaded ({result.why}): is it in use here?")


def load_config(base: Path, boot_dir: Path | None, outcome: Outcome) -> Config:
    """The merged config, as `kiosk run` will read it. When the boot folder's kiosk.toml is
    wrong, the base file alone (its paths and id are still the kiosk's), else the defaults."""
    base_files = [base] if base.is_file() else []
    try:
        config = load_files(base_files)
    except ConfigError as e:
        outcome.problem(str(base), f"{e}")
        config = Config()
    override = boot_dir / KIOSK_TOML if boot_dir is not None else None
    if override is None or not override.is_file():
        return config
    try:
        merged = load_files([*base_files, override])
    except ConfigError as e:
        # The same words as `kiosk run` finds, so the notice shows the problem once.
        outcome.problem(KIOSK_TOML, str(e))
        return config
    outcome.note(f"config: {', '.join(merged.sources)} read, no problem")
    return merged


def is_writable(folder: Path) -> bool:
    try:
        return not os.statvfs(folder).f_flag & os.ST_RDONLY
    except OSError:
        return False
