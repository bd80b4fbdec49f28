"""Settings are checked when they are loaded: each bad value is one line that names the
setting and its variable, and every command exits 2 on it before doing anything."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from service.settings import RULES, Settings, SettingsError, default_file_roots, load_settings

from .conftest import REPO, run_cli


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("FETCH_CONNECT_TIMEOUT", "-1", "a finite number > 0"),
        ("FETCH_READ_TIMEOUT", "nan", "a finite number > 0"),
        ("FETCH_DEADLINE", "inf", "a finite number > 0"),
        ("FETCH_DEADLINE", "0", "a finite number > 0"),
        ("METRICS_PORT", "70000", "from 1 to 65535"),
        ("METRICS_PORT", "0", "from 1 to 65535"),
        ("FILE_MAX_BYTES", "-5", "a whole number >= 1"),
        ("INGEST_CONCURRENCY", "1e3", "a whole number from 1 to 1024"),
        ("TRANSLATE_DEVICE", "tpu", "one of auto, cpu, cuda"),
        ("LOG_LEVEL", "loud", "one of DEBUG"),
        ("ALLOW_INSECURE_REDIS", "tru", "true or false"),
        ("STORY_THRESHOLD", "1.5", "from 0 to 1"),
        ("REDIS_URL", "http://localhost:6379", "redis://"),
        ("FETCH_ALLOW", "10.0.0.0/33", "hosts and CIDRs"),
        ("USER_AGENT", "bot\r\nX-Injected: 1", "control characters"),
        ("REQUIRED_LANGUAGES", "zh, ko", "language codes"),
        ("TASK_SOFT_TIME_LIMIT", "400", "must not exceed task_time_limit"),
        ("TASK_TIME_LIMIT", "4000", "below visibility_timeout"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting_and_its_variable(
    key: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"NEWSINGEST_" + key: value})
    [problem] = caught.value.problems
    assert f"setting {key.lower()} (NEWSINGEST_{key})" in problem
    assert expected in problem
    assert "\n" not in problem and "from the environment" in problem


def test_every_problem_is_reported_at_once() -> None:
    env = {"NEWSINGEST_METRICS_PORT": "-1", "NEWSINGEST_FETCH_DEADLINE": "nan"}
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert len(caught.value.problems) == 2


def test_redis_url_from_the_environment_is_checked_too() -> None:
    with pytest.raises(SettingsError, match=r"\(from REDIS_URL\)"):
        load_settings({"REDIS_URL": "localhost:6379"})


def test_a_settings_error_is_a_value_error_for_callers_that_catch_those() -> None:
    assert issubclass(SettingsError, ValueError)


def test_every_setting_has_a_rule() -> None:
    assert set(RULES) == {f.name for f in dataclasses.fields(Settings)}


def test_the_defaults_pass_their_own_rules() -> None:
    settings = load_settings({})
    assert settings.log_level == "WARNING" and settings.metrics_port == 9464


def test_an_unknown_key_in_the_defaults_file_is_named(tmp_path: Path) -> None:
    text = (REPO / "config" / "defaults.toml").read_text(encoding="utf-8")
    (tmp_path / "defaults.toml").write_text(text + "fetch_timeout = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting fetch_timeout"):
        load_settings({"NEWSINGEST_CONFIG_DIR": str(tmp_path)})


def test_default_file_roots_are_the_checkout_and_the_shared_directory() -> None:
    settings = load_settings({})
    assert settings.file_root_paths == default_file_roots() == (REPO, REPO.parent / "shared")


def test_file_roots_are_colon_separated_and_resolved_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"NEWSINGEST_FILE_ROOTS": "inbox:/srv/news"})
    assert settings.file_root_paths == (tmp_path / "inbox", Path("/srv/news"))


def test_an_empty_file_roots_after_loading_means_none() -> None:
    assert load_settings({}).replace(file_roots="").file_root_paths == ()


@pytest.mark.parametrize(
    "command",
    [["schema"], ["detect"], ["stats"], ["worker", "--queue", "ingest"], ["beat"], ["run"]],
)
def test_every_command_exits_2_with_one_line_on_a_bad_setting(
    settings_env: dict[str, str], command: list[str]
) -> None:
    env = dict(settings_env, NEWSINGEST_FETCH_CONNECT_TIMEOUT="-1")
    out = run_cli(env, *command, stdin="", timeout=60)
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        "newsingest: setting fetch_connect_timeout (NEWSINGEST_FETCH_CONNECT_TIMEOUT) must be "
        "a finite number > 0 and <= 86400, not '-1' (from the environment)"
    ]
    assert out.stdout == ""


def test_a_missing_defaults_file_is_one_line(settings_env: dict[str, str], tmp_path: Path) -> None:
    out = run_cli(dict(settings_env, NEWSINGEST_CONFIG_DIR=str(tmp_path)), "schema", timeout=60)
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert "defaults.toml is missing" in line and "NEWSINGEST_CONFIG_DIR" in line
