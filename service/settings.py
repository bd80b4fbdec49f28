"""One settings object: ``config/defaults.toml`` plus environment overrides, loaded once by
each entry point (the CLI, a worker) and passed down; nothing reads it at import.

This is the only module that reads ``os.environ``. Each key ``k`` in the defaults file can
be overridden by ``NEWSINGEST_K``; ``REDIS_URL`` is honoured as well because every Redis
deployment tool sets it. The defaults file is the single source of default values, so the
dataclass below declares types only, and :data:`RULES` beside it says what each key may
hold. Every value is checked when the settings are loaded, so that a negative timeout or a
port of 70000 is one line at start-up (:class:`SettingsError`), not a traceback later.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "NEWSINGEST_"


@dataclass(frozen=True)
class Settings:
    redis_url: str
    key_prefix: str
    data_dir: Path
    models_dir: Path | None
    packages_dir: Path
    config_dir: Path
    file_max_bytes: int
    fetch_connect_timeout: float
    fetch_read_timeout: float
    fetch_deadline: float
    fetch_max_bytes: int
    fetch_max_redirects: int
    user_agent: str
    fetch_allow: str
    langdetect_seed: int
    translate_device: str
    translate_compute_type: str
    translate_beam_size: int
    translate_intra_threads: int
    translate_max_batch_tokens: int
    translate_max_sentence_tokens: int
    translate_protect_spans: bool
    translate_scope: str
    translate_lead_paragraphs: int
    glossary_file: str
    stream_maxlen: int
    visibility_timeout: int
    task_soft_time_limit: int
    task_time_limit: int
    task_max_retries: int
    retry_backoff_max: int
    worker_max_tasks_per_child: int
    ingest_concurrency: int
    translate_cache_max_entries: int
    translate_cache_ttl: int
    translate_batch_max_docs: int
    translate_batch_max_wait: float
    stream_max_age_days: int
    consumer_max_deliveries: int
    consumer_reclaim_idle_ms: int
    backpressure_lag: int
    near_duplicate_distance: int
    story_threshold: float
    story_window_hours: int
    dedupe_retention_days: float
    required_languages: str
    metrics_port: int
    log_level: str
    fetch_max_decompressed_bytes: int
    fetch_attempts: int
    fetch_host_delay: float
    fetch_host_concurrency: int
    fetch_host_max_wait: float
    robots_ttl: int
    sources_file: str
    seen_ttl: int
    sitemap_max_children: int
    feed_max_bytes: int
    source_tick: float
    source_backoff_max: int
    source_pause_after: int
    allow_insecure_redis: bool
    worker_max_memory_per_child: int
    parse_max_elements: int
    parse_max_depth: int
    text_max_lines: int
    text_max_line_chars: int
    fetch_retry_after_max: int
    task_memory_limit_mb: int
    task_max_deliveries: int
    file_roots: str
    stdin_max_line_chars: int
    publisher_zones: str
    backfill_range_records: int
    backfill_lang_scan_bytes: int
    backfill_with_ingest: bool

    # Key names live here so that every module agrees on them.
    @property
    def documents_stream(self) -> str:
        return f"{self.key_prefix}:documents"

    @property
    def dead_stream(self) -> str:
        return f"{self.key_prefix}:dead"

    @property
    def documents_dead_stream(self) -> str:
        return f"{self.key_prefix}:documents:dead"

    def document_key(self, doc_id: str) -> str:
        return f"{self.key_prefix}:doc:{doc_id}"

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def file_root_paths(self) -> tuple[Path, ...]:
        """The directories that files from the queue may be read from (none when empty)."""
        return tuple(Path(p) for p in self.file_roots.split(":") if p)

    @property
    def glossary_path(self) -> Path:
        """The glossary file: ``glossary_file``, or ``<config_dir>/glossary.toml``."""
        if self.glossary_file:
            return Path(self.glossary_file).expanduser()
        return self.config_dir / "glossary.toml"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


class SettingsError(ValueError):
    """Settings that cannot be used: one line per problem, each naming the setting and the
    variable that overrides it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Rule:
    """What one setting may hold besides its type: a range (``gt`` excludes its bound),
    a set of choices, or a ``check`` that returns what is wrong with a value."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None

    def expectation(self, kind: str) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        noun = {"int": "a whole number", "float": "a finite number", "bool": "true or false"}
        what = noun.get(kind, "text")
        if self.ge is not None and self.le is not None:
            return f"{what} from {_num(self.ge)} to {_num(self.le)}"
        bounds = [f"> {_num(self.gt)}"] if self.gt is not None else []
        bounds += [f">= {_num(self.ge)}"] if self.ge is not None else []
        bounds += [f"<= {_num(self.le)}"] if self.le is not None else []
        return " ".join([what, " and ".join(bounds)]) if bounds else what

    def problem(self, value: Any, kind: str) -> str | None:
        if isinstance(value, str):
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                return "must not contain control characters"
            if self.choices and value not in self.choices:
                return f"must be {self.expectation(kind)}"
            return self.check(value) if self.check else None
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be {self.expectation(kind)}"
        if isinstance(value, bool):
            return None
        too_low = (self.ge is not None and value < self.ge) or (
            self.gt is not None and value <= self.gt
        )
        if too_low or (self.le is not None and value > self.le):
            return f"must be {self.expectation(kind)}"
        return None


def _num(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) and not x.is_integer() else str(int(x or 0))


def _redis_url(value: str) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        return f"must be a redis://, rediss:// or unix:// URL, or empty ({exc})"
    if parts.scheme not in {"redis", "rediss", "unix"}:
        return "must be a redis://, rediss:// or unix:// URL, or empty"
    return None


def _key_prefix(value: str) -> str | None:
    if not value or any(c.isspace() for c in value):
        return "must be non-empty, without spaces"
    return None


def _not_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _allow_list(value: str) -> str | None:
    from .fetch._allow import parse_allow_entry  # the grammar the SSRF guard applies

    for item in value.split(","):
        if item.strip():
            try:
                parse_allow_entry(item)
            except ValueError as exc:
                return f"must list hosts and CIDRs (each :port or :* optional), by commas: {exc}"
    return None


def _zones(value: str) -> str | None:
    from .metadata import parse_zone_table  # the grammar the metadata rules read

    try:
        parse_zone_table(value)
    except ValueError as exc:
        return f"must list KEY=ZONE pairs by spaces (zh=Asia/Shanghai .kr=Asia/Seoul): {exc}"
    return None


def _languages(value: str) -> str | None:
    if all(re.fullmatch(r"[a-z]{2,3}", x) for x in value.split()):
        return None
    return "must be language codes separated by spaces, e.g. 'zh ko'"


# Ranges shared by several keys.
POSITIVE = Rule(ge=1)
NON_NEGATIVE = Rule(ge=0)
PORT = Rule(ge=1, le=65535)
SECONDS = Rule(gt=0, le=86_400)  # a timeout: 0 would fail every fetch; a day is plenty
WAIT = Rule(ge=0, le=86_400)
COMPUTE_TYPES = ("auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
                 "int16", "float16", "bfloat16", "float32")  # fmt: skip
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

RULES: dict[str, Rule] = {
    "redis_url": Rule(check=_redis_url),
    "key_prefix": Rule(check=_key_prefix),
    "data_dir": Rule(check=_not_empty),
    "models_dir": Rule(),
    "packages_dir": Rule(),
    "config_dir": Rule(),
    "file_max_bytes": POSITIVE,
    "fetch_connect_timeout": SECONDS,
    "fetch_read_timeout": SECONDS,
    "fetch_deadline": SECONDS,
    "fetch_max_bytes": POSITIVE,
    "fetch_max_redirects": Rule(ge=0, le=100),
    "user_agent": Rule(check=_not_empty),
    "fetch_allow": Rule(check=_allow_list),
    "langdetect_seed": Rule(ge=0, le=2**32 - 1),
    "translate_device": Rule(choices=("auto", "cpu", "cuda")),
    "translate_compute_type": Rule(choices=COMPUTE_TYPES),
    "translate_beam_size": Rule(ge=1, le=64),
    "translate_intra_threads": Rule(ge=0, le=1024),
    "translate_max_batch_tokens": POSITIVE,
    "translate_max_sentence_tokens": POSITIVE,
    "translate_protect_spans": Rule(),
    "translate_scope": Rule(choices=("full", "lead", "title")),
    "translate_lead_paragraphs": Rule(ge=0, le=10_000),
    "glossary_file": Rule(),
    "stream_maxlen": NON_NEGATIVE,
    "visibility_timeout": POSITIVE,
    "task_soft_time_limit": POSITIVE,
    "task_time_limit": POSITIVE,
    "task_max_retries": Rule(ge=0, le=1000),
    "retry_backoff_max": NON_NEGATIVE,
    "worker_max_tasks_per_child": NON_NEGATIVE,
    "ingest_concurrency": Rule(ge=1, le=1024),
    "translate_cache_max_entries": NON_NEGATIVE,
    "translate_cache_ttl": POSITIVE,
    "translate_batch_max_docs": Rule(ge=1, le=1024),
    "translate_batch_max_wait": Rule(ge=0, le=3600),
    "stream_max_age_days": NON_NEGATIVE,
    "consumer_max_deliveries": POSITIVE,
    "consumer_reclaim_idle_ms": POSITIVE,
    "backpressure_lag": NON_NEGATIVE,
    "near_duplicate_distance": Rule(ge=0, le=64),
    "story_threshold": Rule(ge=0, le=1),
    "story_window_hours": POSITIVE,
    # Fractions allowed (0.001 day = 86 s): benchmarks/soak_store.py expires state in seconds.
    "dedupe_retention_days": Rule(ge=0.0001, le=36_500),
    "required_languages": Rule(check=_languages),
    "metrics_port": PORT,
    "log_level": Rule(choices=LOG_LEVELS),
    "fetch_max_decompressed_bytes": POSITIVE,
    "fetch_attempts": Rule(ge=1, le=100),
    "fetch_host_delay": WAIT,
    "fetch_host_concurrency": Rule(ge=1, le=1024),
    "fetch_host_max_wait": WAIT,
    "robots_ttl": POSITIVE,
    "sources_file": Rule(),
    "seen_ttl": POSITIVE,
    "sitemap_max_children": NON_NEGATIVE,
    "feed_max_bytes": POSITIVE,
    "source_tick": Rule(ge=0.1, le=3600),
    "source_backoff_max": POSITIVE,
    "source_pause_after": NON_NEGATIVE,
    "allow_insecure_redis": Rule(),
    "worker_max_memory_per_child": NON_NEGATIVE,
    "parse_max_elements": POSITIVE,
    "parse_max_depth": POSITIVE,
    "text_max_lines": POSITIVE,
    "text_max_line_chars": POSITIVE,
    "fetch_retry_after_max": NON_NEGATIVE,
    "task_memory_limit_mb": NON_NEGATIVE,
    "task_max_deliveries": POSITIVE,
    "file_roots": Rule(),
    "stdin_max_line_chars": POSITIVE,
    "publisher_zones": Rule(check=_zones),
    "backfill_range_records": Rule(ge=1, le=10_000),
    "backfill_lang_scan_bytes": Rule(ge=256, le=1_048_576),
    "backfill_with_ingest": Rule(),
}

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def default_config_dir() -> Path:
    """The repository's ``config/``; an installed copy points NEWSINGEST_CONFIG_DIR at its own."""
    return Path(__file__).resolve().parents[1] / "config"


def default_file_roots() -> tuple[Path, ...]:
    """The checkout newsingest runs from and its sibling ``shared/`` (the corpus and seeds):
    what the README submits. In an installed copy the first is site-packages."""
    project = Path(__file__).resolve().parents[1]
    return project, project.parent / "shared"


def _coerce(raw: Any, kind: str) -> Any:
    """``raw`` (from TOML or the environment) as ``kind``; ValueError when it is not one."""
    if isinstance(raw, bool) and kind in {"int", "float"}:
        raise ValueError(raw)
    if kind == "int":
        return int(str(raw).strip().replace("_", ""))
    if kind == "float":
        return float(str(raw).strip().replace("_", "")) if isinstance(raw, str) else float(raw)
    if kind == "bool":
        word = str(raw).strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(raw)
        return word in _TRUE
    return str(raw)


def _shown(raw: Any) -> str:
    shown = repr(raw)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the defaults file and ``env`` (``os.environ`` when None).

    Raises FileNotFoundError when the defaults file is missing and :class:`SettingsError`
    (a ValueError) when a value cannot be used.
    """
    environ = os.environ if env is None else env
    config_dir = Path(environ.get(ENV_PREFIX + "CONFIG_DIR") or default_config_dir())
    defaults_file = config_dir / "defaults.toml"
    if not defaults_file.is_file():
        raise FileNotFoundError(
            f"newsingest settings file {defaults_file} is missing; set NEWSINGEST_CONFIG_DIR "
            "to the directory that holds defaults.toml"
        )
    try:
        with defaults_file.open("rb") as fh:
            values: dict[str, Any] = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"settings file {defaults_file} is not valid TOML: {exc}"]) from None

    problems: list[str] = []
    names = {f.name for f in fields(Settings)}
    for key in sorted(set(values) - names):
        problems.append(f"unknown setting {key} in {defaults_file}")
    origin = {key: str(defaults_file) for key in values}
    for key in list(values):
        override = environ.get(ENV_PREFIX + key.upper())
        if override is not None:
            values[key], origin[key] = override, ENV_PREFIX + key.upper()
    if not values.get("redis_url") and environ.get("REDIS_URL"):
        values["redis_url"], origin["redis_url"] = environ["REDIS_URL"], "REDIS_URL"
    values["config_dir"], origin["config_dir"] = str(config_dir), ENV_PREFIX + "CONFIG_DIR"

    def bad(name: str, what: str) -> None:
        var = ENV_PREFIX + name.upper()
        where = "the environment" if origin[name] == var else origin[name]
        problems.append(f"setting {name} ({var}) {what}, not {_shown(values[name])} (from {where})")

    kinds = {"int": int, "float": float, "bool": bool, "str": str}
    out: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in values:
            problems.append(f"setting {f.name} is missing from {defaults_file}")
            continue
        kind = next((k for k, t in kinds.items() if f.type in (k, t)), "str")
        rule = RULES[f.name]
        try:
            value = _coerce(values[f.name], kind)
        except ValueError:
            bad(f.name, f"must be {rule.expectation(kind)}")
            continue
        if f.name == "log_level":
            value = value.upper()
        problem = rule.problem(value, kind)
        if problem is not None:
            bad(f.name, problem)
            continue
        out[f.name] = value
    if not problems:
        _check_together(out, bad)
    if problems:
        raise SettingsError(problems)
    return Settings(**_paths(out))


def _check_together(out: dict[str, Any], bad: Callable[[str, str], None]) -> None:
    """Rules between keys: Celery's soft limit fires before the hard one, and Redis does not
    hand a task that is still running to a second worker."""
    if out["task_soft_time_limit"] > out["task_time_limit"]:
        bad("task_soft_time_limit", f"must not exceed task_time_limit ({out['task_time_limit']})")
    if out["task_time_limit"] >= out["visibility_timeout"]:
        bad("task_time_limit", f"must be below visibility_timeout ({out['visibility_timeout']})")


def _paths(out: dict[str, Any]) -> dict[str, Any]:
    """Relative paths resolved against the working directory, empty ones to their default."""
    out["config_dir"] = Path(out["config_dir"])
    data_dir = Path(out["data_dir"]).expanduser().resolve()
    out["data_dir"] = data_dir
    models_dir = out["models_dir"]
    out["models_dir"] = Path(models_dir).expanduser().resolve() if models_dir else None
    packages_dir = out["packages_dir"]
    out["packages_dir"] = (
        Path(packages_dir).expanduser().resolve() if packages_dir else data_dir / "packages"
    )
    roots = [Path(p).expanduser() for p in out["file_roots"].split(":") if p.strip()]
    roots = roots or list(default_file_roots())
    out["file_roots"] = ":".join(os.path.abspath(p) for p in roots)
    return out
