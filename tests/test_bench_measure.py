"""The benchmarks' shared measuring: warm-up thrown away, CPU beside wall, ratios, load."""

import time

import pytest

from bench.measure import MachineLoad, Spread, ratio_text, time_calls


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
