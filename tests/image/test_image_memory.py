"""The image in a Raspberry Pi Zero 2 W's 512 MB: the kiosk ready on its attract screen, then
the demo's tour of every screen (the sample catalogue of 2,000 e-books built and applied on the
kiosk, its covers on the e-book screens, borrowing, the receipt, admin), with the system's
available memory and the kiosk's own use sampled twice a second inside the VM.

"With room" is taken as a quarter of the memory Linux has (MemTotal) still available
(MemAvailable) at the lowest point, and no process killed for memory. QEMU's virtio-gpu is drawn
by Mesa's software renderer (llvmpipe, its LLVM compiler resident); a Pi draws with V3D, so the
figures here are an upper bound for the renderer's part. Slow (minutes under TCG) and root only:
`./setup.sh image --check`, marker `image`. Figures go to artifacts/i14/image-memory.txt.
"""

from __future__ import annotations

import time

import pytest

from tests.image.conftest import find_image, image_out, workdir
from tests.image.record import save
from tests.image.test_image_boot import BOOT_TIMEOUT, GROW_CARD_BY, wait_active
from tests.image.vm import Vm, VmError

pytestmark = [pytest.mark.image, pytest.mark.timeout(2400)]

PI_ZERO_2_W_MB = 512
ROOM = 0.25  # of MemTotal, still available at the lowest point
TOUR_TIMEOUT = 1500  # TCG: the sample catalogue's build alone takes minutes
TOUR = "/data/tour"
# Inside the VM: the unit's cgroup (every process of it, page cache it caused included) and
# the system's available memory, twice a second while the unit runs.
SAMPLER = r"""
cg=/sys/fs/cgroup/system.slice/$1.service
while [ "$(systemctl is-active $1)" = active ] || [ "$(systemctl is-active $1)" = activating ]; do
  echo "$(awk '/MemAvailable/ {print $2}' /proc/meminfo) $(cat $cg/memory.current 2>/dev/null) \
$(cat $cg/memory.peak 2>/dev/null) $(awk '/^anon / {print $2}' $cg/memory.stat 2>/dev/null)"
  sleep 0.5
done
"""


@pytest.fixture(scope="module")
def small():
    machine = Vm(find_image(image_out()), workdir("memory"), memory_mb=PI_ZERO_2_W_MB)
    machine.prepare()
    with open(machine.disk, "r+b") as disk:  # a card with room for the demo's catalogue
        disk.truncate(machine.disk.stat().st_size + GROW_CARD_BY)
    machine.start()
    try:
        machine.wait_ssh(BOOT_TIMEOUT)
        wait_active(machine, "kiosk.service", BOOT_TIMEOUT)
        yield machine
    finally:
        machine.stop()


FIGURES: list[str] = []


def keep(text: str) -> None:
    """Each check's figures, kept as soon as measured (a later check may fail)."""
    FIGURES.append(text)
    save("image-memory.txt", "".join(FIGURES))


def kib(machine: Vm, field: str) -> int:
    return int(machine.ssh(f"awk '/^{field}:/ {{print $2}}' /proc/meminfo").stdout)


def mb(kib_value: float) -> str:
    return f"{kib_value / 1024:.0f} MB"


def test_a_ready_kiosk_leaves_room(small):
    time.sleep(20)  # the first frame is drawn before READY; let the renderer settle
    total, available = kib(small, "MemTotal"), kib(small, "MemAvailable")
    pid = small.ssh("systemctl show -p MainPID --value kiosk.service").stdout.strip()
    rss = small.ssh(f"awk '/^Rss:/ {{print $2}}' /proc/{pid}/smaps_rollup").stdout.strip()
    pss = small.ssh(f"awk '/^Pss:/ {{print $2}}' /proc/{pid}/smaps_rollup").stdout.strip()
    unit = small.ssh("systemctl show -p MemoryCurrent --value kiosk.service").stdout.strip()
    text = (f"VM: {PI_ZERO_2_W_MB} MB, MemTotal {mb(total)} (the rest is the kernel's)\n"
            f"kiosk.service ready on the attract screen: MemAvailable {mb(available)}; "
            f"the app's resident {mb(int(rss))} (proportional {mb(int(pss))}); "
            f"its cgroup {mb(int(unit) / 1024)}\n")
    keep(text)
    assert available >= ROOM * total, text


def test_the_tour_of_every_screen_fits_with_room(small):
    small.ssh("systemctl stop kiosk.service")
    total = kib(small, "MemTotal")
    idle = kib(small, "MemAvailable")
    started = small.ssh(
        f"mkdir -p {TOUR} && systemd-run --unit kiosk-tour -p MemoryAccounting=yes "
        f"-E SDL_VIDEODRIVER=kmsdrm -E HOME={TOUR} -E KIVY_HOME={TOUR}/kivy "
        f"/opt/kiosk/.venv/bin/kiosk run --demo --walkthrough {TOUR}/shots")
    assert started.returncode == 0, started.stderr
    small.ssh(f"cat > {TOUR}/sampler.sh <<'EOF'\n{SAMPLER}\nEOF\n"
              f"nohup sh {TOUR}/sampler.sh kiosk-tour > {TOUR}/samples 2>&1 &")
    deadline = time.monotonic() + TOUR_TIMEOUT
    while small.ssh("systemctl is-active kiosk-tour").stdout.strip() in ("active", "activating"):
        if time.monotonic() > deadline:
            raise VmError("the tour did not end: " + small.ssh(
                "journalctl -u kiosk-tour -n 40 --no-pager").stdout)
        time.sleep(10)
    log = small.ssh("journalctl -u kiosk-tour --no-pager -o cat").stdout
    samples = [[int(v) for v in line.split()] for line in
               small.ssh(f"cat {TOUR}/samples").stdout.splitlines() if len(line.split()) == 4]
    killed = small.ssh("journalctl -k --no-pager | grep -i -e 'out of memory' -e oom-kill").stdout
    shots = int(small.ssh(f"ls {TOUR}/shots | wc -l").stdout or 0)
    save("image-memory-tour.log", log)
    assert samples, "the tour ended before its memory was sampled once:\n" + log[-4000:]
    lowest = min(s[0] for s in samples)
    peak = max(s[2] for s in samples) / 1024
    anon = max(s[3] for s in samples) / 1024
    text = (f"the demo's tour ({shots} screens, {len(samples)} samples): MemAvailable before "
            f"{mb(idle)}, lowest {mb(lowest)} ({lowest / total:.0%} of MemTotal); the tour's "
            f"cgroup at its peak {mb(peak)} (page cache included), anonymous memory at most "
            f"{mb(anon)}\n" + (f"killed for memory:\n{killed}" if killed else ""))
    keep(text)
    assert "saved" in log and shots >= 18, log[-4000:]
    assert not killed, text
    assert lowest >= ROOM * total, text
