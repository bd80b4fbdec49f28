"""newsingest: multilingual news ingestion (ko, zh, en) into a Redis stream.

What a downstream consumer imports is exported here, and only this is a promise:

    from service import Consumer, Entry, schema, validate, SCHEMA_VERSION

- :class:`Consumer` reads the documents stream in a consumer group (XREADGROUP/XACK,
  reclaims stale entries, moves poison entries to a dead-letter stream);
- :class:`Entry` is one delivered document (``entry.document`` is a dict matching the schema);
- :func:`schema` is the document JSON Schema (v1); :func:`validate` checks a dict against it.

Everything else in this package is the service's own machinery; its modules may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consume import Consumer, Entry
    from .document import SCHEMA_VERSION, schema, validate

__all__ = ["SCHEMA_VERSION", "Consumer", "Entry", "schema", "validate"]

# Loaded on first use, so that `import service.models` alone (the image's package installer
# runs with only a few of these files) does not import the stream client.
_HOME = {
    "Consumer": "consume",
    "Entry": "consume",
    "SCHEMA_VERSION": "document",
    "schema": "document",
    "validate": "document",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'service' has no attribute {name!r}")
