"""U-Boot's boot counter as Linux sees it: `fw_printenv` reads /boot/firmware/kiosk-boot.env
(through /etc/fw_env.config), where boot.scr keeps BOOT_ORDER and BOOT_<slot>_LEFT."""

from __future__ import annotations

from kiosk.commands import Runner


def tries_left(runner: Runner, bootname: str) -> int | None:
    """BOOT_<bootname>_LEFT: the boots U-Boot still gives the slot; None when unreadable."""
    result = runner(["fw_printenv", "-n", f"BOOT_{bootname}_LEFT"])
    text = result.stdout.strip()
    return int(text) if result.ok and text.isdigit() else None
