"""The deployment's glossary: source terms that always come out as the same English.

A TOML file with one table per source language, each mapping a term to its English::

    [zh]
    "中美" = "China–US"
    "贝森特" = "Scott Bessent"

    [ko]
    "한미" = "South Korea–US"

A term is a protected span (service/_protect.py): when the plain translation of a sentence
does not carry the English, the sentence is translated again with the term masked and the
English put in its place. The longest term wins where two overlap. ``config/glossary.toml``
ships empty; ``glossary_file`` in the settings points at another file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

Glossary = Mapping[str, Mapping[str, str]]  # language -> term -> English

_LANGUAGE = re.compile(r"[a-z]{2,3}")
MAX_TERMS = 10_000


class GlossaryError(ValueError):
    """The glossary file cannot be used; the message names the file and the entry."""


def load_glossary(path: Path | None) -> dict[str, dict[str, str]]:
    """Read a glossary file; a missing file (or None) is an empty glossary."""
    if path is None or not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GlossaryError(f"glossary {path} is not readable TOML: {exc}") from None
    return parse_glossary(data, str(path))


def parse_glossary(
    data: Mapping[str, object], where: str = "glossary"
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    count = 0
    for language, table in data.items():
        if not _LANGUAGE.fullmatch(language) or not isinstance(table, Mapping):
            raise GlossaryError(
                f"{where}: [{language}] must be a table named by a language code (zh, ko), "
                'holding "term" = "English" lines'
            )
        terms: dict[str, str] = {}
        for term, english in table.items():
            if not isinstance(english, str) or not english.strip() or not term.strip():
                raise GlossaryError(f"{where}: [{language}] {term!r} needs non-empty English text")
            if any(ord(c) < 32 for c in term + english):
                raise GlossaryError(f"{where}: [{language}] {term!r} holds control characters")
            terms[term.strip()] = english.strip()
        count += len(terms)
        if terms:
            out[language] = terms
    if count > MAX_TERMS:
        raise GlossaryError(f"{where}: {count} terms, more than {MAX_TERMS}")
    return out


def digest(terms: Mapping[str, str] | None) -> str:
    """A short digest of one language's terms, part of the translation cache key."""
    if not terms:
        return "0"
    body = "\n".join(f"{k}\t{v}" for k, v in sorted(terms.items()))
    return hashlib.sha256(body.encode()).hexdigest()[:12]
