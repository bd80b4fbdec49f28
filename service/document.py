"""The published document (schema v1) and its validation against the JSON Schema."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any

import jsonschema
import orjson

from .errors import ValidationError

SCHEMA_VERSION = 1
# The store replaces this token with the version it assigns, inside its atomic script.
VERSION_PLACEHOLDER = "__NEWSINGEST_VERSION__"
DUPLICATE_PLACEHOLDER = "__NEWSINGEST_DUPLICATE_OF__"


@functools.cache
def schema() -> dict[str, Any]:
    text = resources.files("service").joinpath("schema/document-v1.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema())
    validator: jsonschema.protocols.Validator = cls(schema(), format_checker=cls.FORMAT_CHECKER)
    return validator


def validate(data: dict[str, Any]) -> None:
    """Raise ValidationError naming every field that breaks the schema."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        detail = "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in errors[:5]
        )
        raise ValidationError(f"document does not match schema v{SCHEMA_VERSION}: {detail}")


@dataclass
class Document:
    id: str
    url: str | None
    source: dict[str, Any]
    language: str
    language_confidence: float
    script: str | None
    title: str | None
    text: str
    title_en: str | None
    text_en: str | None
    translation: dict[str, Any]
    authors: list[str]
    published_at: str | None
    site_name: str | None
    canonical_url: str | None
    description: str | None
    encoding: dict[str, str]
    content_hash: str
    ingested_at: str
    version: int = 1
    duplicate_of: str | None = None
    story_id: str | None = None
    fingerprint: str | None = None
    schema_version: int = field(default=SCHEMA_VERSION)

    def as_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies, and this runs per publish.
        # Key order is part of the contract's readability: identity first.
        return {name: getattr(self, name) for name in _FIELD_ORDER}

    def validate(self) -> None:
        validate(self.as_dict())

    def to_json(self) -> str:
        return self.to_json_bytes().decode("utf-8")

    def to_json_bytes(self) -> bytes:
        """Compact UTF-8 JSON, as published (orjson: about 6x faster than json on articles)."""
        return orjson.dumps(self.as_dict())

    def to_json_for_store(self) -> bytes:
        """JSON whose version the store fills in atomically (see store.PUBLISH_SCRIPT)."""
        data = self.as_dict()
        data["version"] = VERSION_PLACEHOLDER
        data["duplicate_of"] = DUPLICATE_PLACEHOLDER
        return orjson.dumps(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**data)


_IDENTITY = ("schema_version", "id", "version", "duplicate_of")
_FIELD_ORDER = (*_IDENTITY, *(f.name for f in fields(Document) if f.name not in _IDENTITY))
