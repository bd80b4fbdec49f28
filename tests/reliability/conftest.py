"""The reliability suite runs only when asked for by path (`make reliability` runs
`pytest tests/reliability`); a plain `pytest` (`make test`) skips the directory, because the
suite takes minutes of real processes. At the end it prints the report table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.harness import HEADER, MODELS, REPORTS, Servers
from service.models import install_from

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


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real zh->en package, installed once for the suite."""
    target = tmp_path_factory.mktemp("packages")
    install_from(MODELS, target)
    return target


@pytest.fixture
def servers() -> Iterator[Servers]:
    """The loopback news, hostile and feed servers, fresh for each test."""
    started = Servers.start()
    try:
        yield started
    finally:
        started.stop()
