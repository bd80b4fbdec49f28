"""The published document (schema v1) and its validation against the JSON Schema."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jsonschema

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
