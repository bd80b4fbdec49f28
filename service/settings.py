"""One settings object: ``config/defaults.toml`` plus environment overrides, loaded once by
each entry point (the CLI, a worker) and passed down; nothing reads it at import.

This is the only module that reads ``os.environ``. Each key ``k`` in the defaults file can
be overridden by ``NEWSINGEST_K``; ``REDIS_URL`` is honoured as well because every Redis
deployment tool sets it. The defaults file is the single source of default values, so the
dataclass below declares types only.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

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
    dedupe_retention_days: int
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

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def default_config_dir() -> Path:
    """The repository's ``config/``; an installed copy points NEWSINGEST_CONFIG_DIR at its own."""
    return Path(__file__).resolve().parents[1] / "config"


def _coerce(name: str, raw: Any, kind: str) -> Any:
    try:
        if kind == "int":
            return int(str(raw).replace("_", ""))
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        return str(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name}: cannot read {raw!r} as {kind}") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the defaults file and ``env`` (``os.environ`` when None)."""
    environ = os.environ if env is None else env
    config_dir = Path(environ.get(ENV_PREFIX + "CONFIG_DIR") or default_config_dir())
    defaults_file = config_dir / "defaults.toml"
    if not defaults_file.is_file():
        raise FileNotFoundError(
            f"newsingest settings file {defaults_file} is missing; set NEWSINGEST_CONFIG_DIR "
            "to the directory that holds defaults.toml"
        )
    with defaults_file.open("rb") as fh:
        values: dict[str, Any] = tomllib.load(fh)

    for key in list(values):
        override = environ.get(ENV_PREFIX + key.upper())
        if override is not None:
            values[key] = override
    if not values.get("redis_url") and environ.get("REDIS_URL"):
        values["redis_url"] = environ["REDIS_URL"]

    kinds = {"int": int, "float": float, "bool": bool, "str": str}
    out: dict[str, Any] = {"config_dir": config_dir}
    for f in fields(Settings):
        if f.name in {"config_dir", "data_dir", "models_dir", "packages_dir"}:
            continue
        if f.name not in values:
            raise KeyError(f"setting {f.name} is missing from {defaults_file}")
        kind = next((k for k, t in kinds.items() if f.type in (k, t)), "str")
        out[f.name] = _coerce(f.name, values[f.name], kind)

    data_dir = Path(str(values["data_dir"])).expanduser().resolve()
    out["data_dir"] = data_dir
    models_dir = str(values.get("models_dir") or "")
    out["models_dir"] = Path(models_dir).expanduser().resolve() if models_dir else None
    packages_dir = str(values.get("packages_dir") or "")
    out["packages_dir"] = (
        Path(packages_dir).expanduser().resolve() if packages_dir else data_dir / "packages"
    )
    return Settings(**out)
