"""Typed errors for the pipeline.

Every failure a user can see is an :class:`IngestError` with a short machine-readable
``reason`` (it becomes the dead-letter entry's ``reason`` field) and a message that says
what went wrong and what to do. ``permanent`` decides between the dead-letter stream and
a retry with backoff.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class for every error the pipeline raises on purpose."""

    reason: str = "ingest_error"
    permanent: bool = True

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.reason


class SourceError(IngestError):
    """The input could not be read (missing file, unsupported kind, too large)."""

    reason = "bad_source"


class FetchError(IngestError):
    """A permanent HTTP failure: 4xx, refused URL, disallowed type, too large."""

    reason = "fetch_failed"


class TransientFetchError(FetchError):
    """A failure worth retrying: timeout, connection error, 5xx, 429."""

    reason = "fetch_transient"
    permanent = False

    def __init__(
        self, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class DecodeError(IngestError):
    """The bytes are not text in any encoding we can defend (binary, empty)."""

    reason = "undecodable"


class ExtractionError(IngestError):
    """No article text could be extracted from the page."""

    reason = "no_content"


class TranslationError(IngestError):
    """The translation engine failed on a package that is installed."""

    reason = "translation_failed"


class ModelError(IngestError):
    """A translation package is missing, damaged or cannot be installed."""

    reason = "model_error"


class ValidationError(IngestError):
    """A produced document does not match the published JSON Schema."""

    reason = "invalid_document"
