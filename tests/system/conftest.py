"""The system test's phase timings, printed after the run's results."""

from tests.system import phases


def pytest_terminal_summary(terminalreporter):
    if phases.TIMINGS:
        terminalreporter.section("system test phases")
        for line in phases.lines():
            terminalreporter.write_line(line)
