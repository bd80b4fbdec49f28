"""Small helpers for values read back from Redis."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    """A Redis reply (bytes, or already str with decode_responses) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
