"""Start-up benchmark: process start to the attract screen's first frame, and memory after start,
each against an empty Kivy window measured in the same run (bench/bare_window.py).

Runs the real demo app (`python -m kiosk run --demo`) on the display in $DISPLAY (run it under
xvfb-run on a machine without one), taking turns with the empty window so that both share the
machine's load; with `--before TREE` (a worktree of older code) that tree's app takes its turn
too, and the section shows both side by side. A warm-up run of each is thrown away (it makes
the demo's catalogue and writes bytecode). Figures: wall time and the process's own CPU time to
the first frame, resident memory SETTLE_S after it, the kiosk's own share over the empty
window, and the ratios against the empty window. Targets (issue 20): first frame under 1 s,
the kiosk's own share at most 40 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import MachineLoad, Spread, machine_line, ratio_text  # noqa: E402
from bench.results import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
SETTLE_S = 2.0  # after the first frame, before memory is read
TARGET_FIRST_FRAME_S = 1.0
TARGET_OWN_MB = 40.0
TICKS = os.sysconf("SC_CLK_TCK")
LLVMPIPE_NOTE = (
    "This machine has no GPU: Mesa draws in software (llvmpipe), and its LLVM compiler is "
    "resident in every OpenGL process, so an empty Kivy window already costs most of the memory. "
    "A Pi draws with its GPU driver (V3D) instead, which this machine cannot measure. The "
    "kiosk's own share is what our code controls.")
RENDERER = re.compile(r"GL: OpenGL renderer <b?'?(.+?)'?>")
MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
GL_DRIVER_LIBRARIES = re.compile(r"libLLVM|_dri\.so|libgallium|libGLX_mesa|libglapi")


@dataclass(frozen=True)
class Run:
    first_frame_s: float  # wall time, process start to the first frame drawn
    cpu_s: float  # the process's user + system time by then
    rss_mb: float  # SETTLE_S after the first frame
    renderer_mb: float  # resident pages of the OpenGL driver's own libraries
    renderer: str


@dataclass(frozen=True)
class Subject:
    """What is started: its command, the tree it runs from, its folder for data."""
    name: str
    command: list[str]
    tree: Path

    def environment(self, marker: Path) -> dict[str, str]:
        env = dict(os.environ, KIOSK_FIRST_FRAME_FILE=str(marker), PYTHONPATH=str(self.tree))
        # A kiosk runs from compiled bytecode (written at install, or by the warm-up run here);
        # a shell that forbids writing it would measure compiling every module instead.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env


def one_run(subject: Subject, workdir: Path) -> Run:
    marker = workdir / "first-frame"
    marker.unlink(missing_ok=True)
    started = time.time()
    proc = subprocess.Popen(subject.command, cwd=subject.tree, env=subject.environment(marker),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = started + 60
        while not marker.exists() or not marker.read_text():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{subject.name}: no frame drawn: "
                                   + proc.stderr.read()[-2000:])
            time.sleep(0.005)
        cpu_s = cpu_time(proc.pid)
        first_frame = float(marker.read_text()) - started
        time.sleep(SETTLE_S)
        rss_mb, renderer_mb = resident(proc.pid)
    finally:
        proc.terminate()
        _, log = proc.communicate(timeout=20)
    found = RENDERER.search(log)
    return Run(first_frame, cpu_s, rss_mb, renderer_mb, found.group(1) if found else "unknown")


def cpu_time(pid: int) -> float:
    """User + system seconds of the process so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def resident(pid: int) -> tuple[float, float]:
    """(whole process, OpenGL driver libraries) resident memory in MB, from /proc/PID/smaps."""
    total = driver = 0
    mapping = ""
    for line in Path(f"/proc/{pid}/smaps").open():
        if MAPPING.match(line):
            mapping = line.split()[-1] if len(line.split()) > 5 else ""
        elif line.startswith("Rss:"):
            kb = int(line.split()[1])
            total += kb
            if GL_DRIVER_LIBRARIES.search(mapping):
                driver += kb
    return total / 1024, driver / 1024


def kiosk_subject(name: str, tree: Path, workdir: Path) -> Subject:
    """The demo app of `tree`, with its data (and the demo's catalogue) in `workdir`."""
    demo = tree / "kiosk/demo/demo.toml"
    config = workdir / f"{name}.toml"
    config.write_text(demo.read_text(encoding="utf-8").replace(
        'data_dir = "~/.local/share/kiosk-demo"', f'data_dir = "{workdir / name}"'),
        encoding="utf-8")
    return Subject(name, [sys.executable, "-m", "kiosk", "run", "--demo", "--config",
                          str(config)], tree)


@dataclass(frozen=True)
class Figures:
    """One subject's runs against the empty window's, summarised."""
    runs: list[Run]
    bare: list[Run]

    def spread(self, field: str) -> Spread:
        return Spread.of(getattr(r, field) for r in self.runs)

    @property
    def own_mb(self) -> Spread:
        return Spread.of(r.rss_mb - b.rss_mb for r, b in zip(self.runs, self.bare))


def rows(columns: dict[str, Figures], bare: Figures) -> list[str]:
    """The table: one column per subject, the empty window's figures in the last."""
    names = list(columns)
    head = "| measure | " + " | ".join(names) + " | empty window | target |"
    lines = [head, "|---" * (len(names) + 3) + "|"]

    def line(label: str, cell, bare_cell: str, target: str) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(columns[n]) for n in names)
                     + f" | {bare_cell} | {target} |")

    def seconds(spread: Spread) -> str:
        return f"{spread.median:.2f} s (p95 {spread.p95:.2f})"

    bare_ff, bare_cpu = bare.spread("first_frame_s"), bare.spread("cpu_s")
    bare_mem = bare.spread("rss_mb")
    line("first frame, wall", lambda f: seconds(f.spread("first_frame_s")), seconds(bare_ff),
         f"< {TARGET_FIRST_FRAME_S:.0f} s")
    line("first frame, the process's CPU time", lambda f: seconds(f.spread("cpu_s")),
         seconds(bare_cpu), "")
    line("first frame, wall, over the empty window's",
         lambda f: ratio_text(f.spread("first_frame_s").median, bare_ff.median), "1x", "")
    line("first frame, CPU, over the empty window's",
         lambda f: ratio_text(f.spread("cpu_s").median, bare_cpu.median), "1x", "")
    line(f"resident memory {SETTLE_S:.0f} s after the first frame",
         lambda f: f"{f.spread('rss_mb').median:.0f} MB", f"{bare_mem.median:.0f} MB", "")
    line("over the empty window's",
         lambda f: ratio_text(f.spread("rss_mb").median, bare_mem.median), "1x", "")
    line("**the kiosk's own share** (minus the empty window of the same turn)",
         lambda f: f"**{f.own_mb.median:.0f} MB** ({f.own_mb.low:.0f}-{f.own_mb.high:.0f})",
         "", f"≤ {TARGET_OWN_MB:.0f} MB")
    line("of which the OpenGL driver's libraries",
         lambda f: f"{f.spread('renderer_mb').median:.0f} MB",
         f"{bare.spread('renderer_mb').median:.0f} MB", "")
    return lines


def verdicts(figures: Figures) -> str:
    ff, own = figures.spread("first_frame_s").median, figures.own_mb.median
    return (f"first frame {'meets' if ff < TARGET_FIRST_FRAME_S else 'MISSES'} its target, "
            f"own memory {'meets' if own <= TARGET_OWN_MB else 'MISSES'} its target")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="a worktree of older code, measured in turn with this one")
    parser.add_argument("--before-name", default="before",
                        help="its column's heading, e.g. the commit")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("bench: no display; run: xvfb-run -a .venv/bin/python bench/startup.py",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subjects = [kiosk_subject("now", HERE, work)]
        if args.before is not None:
            subjects.insert(0, kiosk_subject(args.before_name, args.before.resolve(), work))
        bare_subject = Subject("empty window", [sys.executable, str(HERE / "bench/bare_window.py")],
                               HERE)
        for subject in [*subjects, bare_subject]:
            one_run(subject, work)  # warm-up, thrown away
        found: dict[str, list[Run]] = {s.name: [] for s in subjects}
        bare_runs: dict[str, list[Run]] = {s.name: [] for s in subjects}
        with MachineLoad() as load:
            for i in range(args.runs):
                for subject in subjects:  # each kiosk run beside an empty window's of its turn
                    found[subject.name].append(one_run(subject, work))
                    bare_runs[subject.name].append(one_run(bare_subject, work))
                    run, bare = found[subject.name][-1], bare_runs[subject.name][-1]
                    print(f"run {i + 1} {subject.name}: first frame {run.first_frame_s:.3f} s "
                          f"(CPU {run.cpu_s:.3f} s), resident {run.rss_mb:.1f} MB, empty "
                          f"window {bare.first_frame_s:.3f} s, {bare.rss_mb:.1f} MB",
                          flush=True)
    columns = {name: Figures(runs, bare_runs[name]) for name, runs in found.items()}
    every_bare = Figures([r for runs in bare_runs.values() for r in runs], [])
    renderer = found["now"][0].renderer
    lines = [f"{machine_line()}, Xvfb; OpenGL renderer: {renderer}. {load.describe()}.",
             f"{args.runs} turns after a warm-up of each; medians (p95). Each turn starts each "
             "app and then an empty Kivy window (bench/bare_window.py), so a ratio compares "
             "figures taken under the same load.", "",
             *rows(columns, every_bare), "",
             *(f"- {name}: {verdicts(figures)}." for name, figures in columns.items())]
    if "llvmpipe" in renderer:
        lines += ["", LLVMPIPE_NOTE]
    write_section("Start-up (bench/startup.py)", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
