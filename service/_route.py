"""Paragraph routing and translation scope: which part of a document goes to which package.

Each part of a document (its title, then its paragraphs) is detected on its own with
:func:`service.language.detect`, which decides CJK text by its script and Latin text with
seeded langdetect plus the word prior, so a paragraph that mixes scripts goes by its main
language (a Chinese sentence naming "Scott Bessent" is Chinese; an English quote carrying
one Chinese name is English). Then:

- English, or no letters at all (a date line, a number): kept verbatim;
- a language with a package (the document's own, or another: a Korean article quoting
  Chinese): translated by that package;
- anything else: kept verbatim and flagged (``unsupported``).

The scope limits the parts: ``full`` is everything, ``lead`` the title and the first N
paragraphs, ``title`` the title alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .language import detect

SCOPES = ("full", "lead", "title")
TRANSLATE, KEPT, UNSUPPORTED = "translate", "kept", "unsupported"


@dataclass(frozen=True)
class Part:
    """One part of a document and what happens to it."""

    index: int | None  # None: the title; else the paragraph's position in the document
    text: str
    language: str  # as detected ("und": no letters)
    action: str  # translate | kept | unsupported

    def record(self, document_language: str) -> dict[str, Any] | None:
        """The routing entry a document carries for this part: only for parts not
        translated by the document's own package."""
        if self.action == TRANSLATE and self.language == document_language:
            return None
        action = "translated" if self.action == TRANSLATE else self.action
        return {"paragraph": self.index, "language": self.language, "action": action}


def in_scope(paragraphs: int, scope: str, lead: int) -> int:
    """How many leading paragraphs a scope translates."""
    if scope == "title":
        return 0
    if scope == "lead":
        return min(paragraphs, max(0, lead))
    return paragraphs


def plan(
    document_language: str,
    title: str | None,
    paragraphs: Sequence[str],
    *,
    scope: str,
    lead: int,
    seed: int,
    has_package: Callable[[str], bool],
) -> list[Part]:
    """The parts of one document in scope, title first, each with its route."""
    texts: list[tuple[int | None, str]] = [(None, title)] if title else []
    texts += list(enumerate(paragraphs[: in_scope(len(paragraphs), scope, lead)]))
    parts: list[Part] = []
    for index, text in texts:
        language = detect(text, seed=seed).language
        if language in ("en", "und"):
            action = KEPT
        elif language == document_language or has_package(language):
            action = TRANSLATE
        else:
            action = UNSUPPORTED
        parts.append(Part(index, text, language, action))
    return parts
