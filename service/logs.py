"""Logging: JSON lines for machines, readable lines on a terminal.

Records carry ``doc_id``, ``task_id``, ``url`` and ``stage`` when known (pass them with
``extra=``; the task id is filled in from the running Celery task). Article text is never
logged at info level: messages name documents by id and URL only.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("doc_id", "task_id", "url", "stage")
current_task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_task_id", default=None
)
# The pipeline stage running now (fetch, decode, ...): a dead letter names where it failed.
current_stage: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_stage", default=None
)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "task_id", None) is None:
            record.task_id = current_task_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{n}={getattr(record, n)}" for n in CONTEXT_FIELDS if getattr(record, n, None)]
        return f"{line} [{' '.join(extras)}]" if extras else line


def configure(level: str | int = "INFO", *, json_logs: bool | None = None) -> None:
    """Set up the root logger once: JSON unless stderr is a terminal."""
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_logs
        else HumanFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
