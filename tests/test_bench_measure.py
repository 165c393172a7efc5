"""The benchmarks' shared measuring: warm-up thrown away, CPU beside wall, ratios, load."""

import time

import pytest

from bench.measure import MachineLoad, Spread, ratio_text, time_calls
from tests.conftest import ROOT


def test_warm_up_calls_are_not_timed():
    calls = []

    def call():
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.2)  # the first call is slow, as a cold cache is

    timings = time_calls(call, runs=3, warmup=1)
    assert len(calls) == 4 and len(timings) == 3
    assert max(t.wall_s for t in timings) < 0.1


def test_sleeping_costs_wall_time_but_no_cpu_time():
    [timing] = time_calls(lambda: time.sleep(0.05), runs=1, warmup=0)
    assert timing.wall_s >= 0.05
    assert timing.cpu_s < 0.02


def test_spread_reads_median_and_p95():
    spread = Spread.of(range(1, 101))
    assert (spread.median, spread.p95, spread.low, spread.high) == (50.5, 96, 1, 100)
    with pytest.raises(ValueError):
        Spread.of([])


def test_ratios_are_value_over_baseline():
    assert ratio_text(3.0, 2.0) == "1.50x"
    assert ratio_text(34.0, 2.0) == "17x"
    assert ratio_text(1.0, 0.0) == "infx"


def test_machine_load_sees_our_own_work():
    with MachineLoad() as load:
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass
    assert load.busy > 0.2  # at least our one core, whatever else the machine did
    assert "busy across" in load.describe()


def test_a_saved_before_run_shows_as_one_table_under_its_header(tmp_path):
    """A run saved with the rows it printed as it went, then its section: the section once,
    the table's rows after its header (bench/RESULTS.md had rows with no header before)."""
    from bench.results import before_lines

    saved = tmp_path / "before.txt"
    saved.write_text("| 2,000 | a | 1.0 |\n| 2,000 | 1.6 s |\nMachine: x86_64. Code: before.\n\n"
                     "| titles | query | ms |\n|---|---|---|\n| 2,000 | a | 1.0 |\n",
                     encoding="utf-8")
    lines = before_lines(saved)
    assert lines[3:] == ["Machine: x86_64. Code: before.", "", "| titles | query | ms |",
                         "|---|---|---|", "| 2,000 | a | 1.0 |"]


def test_a_runs_scratch_folder_is_gone_when_the_benchmark_ends(tmp_path):
    """Runs left their catalogues and batches behind (gigabytes each) until the disk filled."""
    import subprocess
    import sys

    script = ("import sys; sys.path.insert(0, sys.argv[1]); from bench.measure import "
              "scratch_folder; folder = scratch_folder('bench-x-', sys.argv[2]); "
              "(folder / 'big').write_bytes(b'x' * 1000); print(folder)")
    made = subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path)],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert made.startswith(str(tmp_path / "bench-x-"))
    assert list(tmp_path.iterdir()) == []
