"""The reliability suite runs only when asked for by path (`make reliability` runs
`pytest tests/reliability`); a plain `pytest` (`make test`) skips the directory, because the
suite takes minutes of real processes. At the end it prints the report table."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import HEADER, REPORTS

HERE = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name.startswith("test_") and not _asked_for(config):
        return True
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability report")
    write(HEADER)
    for report in REPORTS:
        write(report.row())
    for report in REPORTS:
        reasons = ", ".join(f"{r}={n}" for r, n in sorted(report.reasons.items()))
        write(f"{report.scenario}: dead-letter reasons: {reasons}")
        for note in report.notes:
            write(f"{report.scenario}: {note}")
        for problem in report.problems[:30]:
            write(f"{report.scenario}: PROBLEM {problem}")
