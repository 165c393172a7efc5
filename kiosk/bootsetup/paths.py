"""Every path `kiosk boot-setup` reads or writes, with the installed kiosk's values as defaults.

Tests build a `BootPaths` under a temporary folder; nothing else in the package names a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk import boot_report
from kiosk import config as kiosk_config

RUN_DIR = boot_report.REPORT_PATH.parent  # /run/kiosk-boot: emptied at every boot


@dataclass(frozen=True)
class BootPaths:
    # Where a technician's files may be: the folders of config.BOOT_OVERRIDES, in that order.
    boot_dirs: tuple[Path, ...] = tuple(p.parent for p in kiosk_config.BOOT_OVERRIDES)
    base_config: Path = kiosk_config.DEFAULT_PATH
    report: Path = boot_report.REPORT_PATH
    wpa_conf: Path = RUN_DIR / "wpa_supplicant.conf"
    wifi_network: Path = Path("/run/systemd/network/60-kiosk-wifi.network")
    # sshd reads /run/kiosk-boot/authorized_keys/%u (the system helper's drop-in).
    authorized_keys_dir: Path = RUN_DIR / "authorized_keys"
    timesyncd_dropin: Path = Path("/run/systemd/timesyncd.conf.d/60-kiosk.conf")
    etc_hostname: Path = Path("/etc/hostname")
    etc_hosts: Path = Path("/etc/hosts")
    # The data partition's mount point (fstab: LABEL=KIOSKDATA), whatever [kiosk] data_dir says;
    # a plain folder on the root of a PC. Its folders: data_layout.FOLDERS.
    data_mount: Path = Path("/data")
    # Whether a partition is expected at /data (the doctor: nofail lets a boot go on without it).
    fstab: Path = Path("/etc/fstab")
    # SSH host keys when the data folder cannot hold them (made at every such boot, in RAM).
    host_keys_fallback: Path = RUN_DIR.parent / "kiosk-ssh"
    # Where Debian's openssh-server made its host keys; a PC install's move them to /data/ssh.
    etc_ssh: Path = Path("/etc/ssh")
    mountinfo: Path = Path("/proc/self/mountinfo")
    sys_dev_block: Path = Path("/sys/dev/block")
    dev: Path = Path("/dev")
    # sd_booted(3): this folder exists only when systemd is PID 1.
    systemd_marker: Path = Path("/run/systemd/system")
    # The user kiosk.service runs as; it owns the data folder and the central token.
    kiosk_user: str = "kiosk"

    @property
    def grown_marker(self) -> Path:
        """Made once the data partition was grown (or found unable to grow): first boot only."""
        return self.data_mount / ".grown"

    @property
    def host_keys_dir(self) -> Path:
        """The SSH host keys (sshd_config.d/60-kiosk.conf names them here)."""
        return self.data_mount / "ssh"

    @property
    def systemd_running(self) -> bool:
        return self.systemd_marker.is_dir()
