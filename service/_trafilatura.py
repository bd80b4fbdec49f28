"""trafilatura behind one adapter: its tuned internals on the tested release, its public API
on any other.

extract.py asks an :class:`Engine` for two things: a parsed page, and the page's metadata
with its main text. On the trafilatura series these internals were written against
(:data:`TESTED_SERIES`) they come from trafilatura's own building blocks, tuned and measured
in docs/choices.md: a parser without lxml's Python class-lookup callback, metadata without
categories, tags and licence, a two-pass date search and a one-pass author search. On any
other release, or when one of those internals is missing or changed shape, they come from the
public API alone (``load_html``, ``bare_extraction`` with metadata, ``extract_metadata``):
slower and with trafilatura's own metadata rules, but a new release cannot break extraction.
Which path runs is logged once per process; ``extract_html(..., engine=PUBLIC)`` forces the
public one.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Protocol

import lxml.html
import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

from ._cost import bounded_json_ld, defuse_doctype, strip_doctype

_IMPORT_PROBLEM: str | None = None
try:
    import trafilatura.json_metadata as tjson
    import trafilatura.metadata as tmeta
    import trafilatura.settings as tsettings
    import trafilatura.utils as tutils
    import trafilatura.xml as txml
    import trafilatura.xpaths as txpaths
except ImportError as exc:  # pragma: no cover - a trafilatura that moved its internals
    _IMPORT_PROBLEM = f"its internals moved ({exc})"

__all__ = [
    "AUTHOR_RULES_DIGEST",
    "DeferredError",
    "INTERNALS",
    "PARSER_ERRORS",
    "PUBLIC",
    "TESTED_SERIES",
    "Engine",
    "PageMetadata",
    "author_rules_digest",
    "body_paragraphs",
    "engine",
    "internals_problem",
    "select_engine",
]

logger = logging.getLogger("newsingest.extract")

# The release series the internals path was written and tested against.
TESTED_SERIES: Final = (2, 3)
# What the one-pass author search mirrors: trafilatura's author and discard expressions and
# the functions that apply them (tests/test_trafilatura.py pins the same digest).
AUTHOR_RULES_DIGEST: Final = "e4d23208218c022b45cc3bf160f4c98d553272a60a2645ebe64ba23fe8a1a915"
# What trafilatura, htmldate and lxml raise on hostile markup (htmldate asserts, for one).
# Deliberately not Exception: a task's soft time limit must still get through.
# trafilatura.utils.INVALID_XML_CHARS: removed before the doctype, as repair_faulty_html does.
_INVALID_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
PARSER_ERRORS: Final = (
    ValueError,
    TypeError,
    RecursionError,
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    etree.LxmlError,
)


class DeferredError(Exception):
    """What the deferred date search raised (one of :data:`PARSER_ERRORS`, its ``__cause__``),
    apart from what the metadata rules recover from: the page fails as if it had run at once."""


def _known(value: str | None) -> Callable[[], str | None]:
    return lambda: value


@dataclass(frozen=True)
class PageMetadata:
    """What trafilatura finds about a page besides its text. Its date is htmldate's costly
    search: the internals path runs it on the first call of ``find_date`` (or :attr:`date`)."""

    title: str | None = None
    author: str | None = None
    url: str | None = None
    sitename: str | None = None
    description: str | None = None
    find_date: Callable[[], str | None] = field(default=_known(None), compare=False)

    @property
    def date(self) -> str | None:
        return self.find_date()


class Engine(Protocol):
    """One way of running trafilatura; :func:`engine` picks the one for this installation."""

    name: str

    def load_html(self, html: str) -> HtmlElement | None:
        """The page's tree, or None when the string is not HTML at all."""

    def extract(
        self, tree: HtmlElement, url: str | None, *, fast: bool
    ) -> tuple[PageMetadata, list[str]]:
        """The page's metadata and main-text paragraphs."""


def _bare_extraction(tree: HtmlElement, url: str | None, *, fast: bool, metadata: bool) -> Any:
    """trafilatura's public extraction with the options every caller here uses."""
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        with_metadata=metadata,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
    )


def body_paragraphs(tree: HtmlElement, url: str | None, *, fast: bool = True) -> list[str]:
    """The main text of a tree as paragraphs, from the public ``bare_extraction``."""
    return _paragraphs(_bare_extraction(tree, url, fast=fast, metadata=False))


def _paragraphs(doc: object) -> list[str]:
    text = str(getattr(doc, "text", None) or "") if doc is not None else ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _tidy_sitename(sitename: str | None) -> str | None:
    """Social meta tags give "@handle" and lower-case names: write the name as a site does."""
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    return sitename


class _Public:
    """trafilatura's public API only: what any 2.x release supports."""

    name = "public"

    def load_html(self, html: str) -> HtmlElement | None:
        return trafilatura.load_html(defuse_doctype(html))

    def extract(
        self, tree: HtmlElement, url: str | None, *, fast: bool
    ) -> tuple[PageMetadata, list[str]]:
        with bounded_json_ld(tree):
            doc = _bare_extraction(tree, url, fast=fast, metadata=True)
            # bare_extraction discards a page whose text is too short, metadata and all; the
            # metadata still serves when the embedded-article fallback finds the text.
            source = doc
            if source is None:
                source = trafilatura.extract_metadata(tree, default_url=url)

        def field(name: str) -> str | None:
            value = getattr(source, name, None)
            return value if isinstance(value, str) and value else None

        meta = PageMetadata(
            title=field("title"),
            author=field("author"),
            url=field("url"),
            find_date=_known(field("date")),
            sitename=_tidy_sitename(field("sitename")),
            description=field("description"),
        )
        return meta, _paragraphs(doc)


class _Internals:
    """trafilatura's building blocks, tuned; valid only where :func:`internals_problem` is
    None."""

    name = "internals"

    def load_html(self, html: str) -> HtmlElement | None:
        """trafilatura's load_html for a decoded page, with the parser below."""
        beginning = html[:50].lower()
        if "doctype" in beginning:  # trafilatura's own doctype removal is quadratic
            html = strip_doctype(_INVALID_XML_CHARS.sub("", html))
        html = tutils.repair_faulty_html(html, "")
        tree: HtmlElement | None = None
        parser = _html_parser()
        with contextlib.suppress(ValueError, etree.LxmlError):  # a string declaring an encoding
            tree = lxml.html.fromstring(html, parser=parser)
        if tree is None or len(tree) < 1:  # retry as bytes, as trafilatura does
            data, tree = html.encode("utf-8", "surrogatepass"), None
            with contextlib.suppress(ValueError, etree.LxmlError):
                tree = lxml.html.fromstring(data, parser=parser)
        if tree is not None and tutils.is_dubious_html(beginning) and len(tree) < 2:
            return None  # not HTML at all
        return tree

    def extract(
        self, tree: HtmlElement, url: str | None, *, fast: bool
    ) -> tuple[PageMetadata, list[str]]:
        with bounded_json_ld(tree):
            return self.metadata(tree, url), body_paragraphs(tree, url, fast=fast)

    def metadata(self, tree: HtmlElement, url: str | None) -> PageMetadata:
        """trafilatura's metadata steps minus categories, tags and licence (a third of its
        time); the date search is deferred to the first call of ``find_date``."""
        meta = tmeta.examine_meta(tree)
        if meta.author and " " not in meta.author:
            meta.author = None  # one-word "authors" in meta tags are site or desk names
        try:
            meta = tmeta.extract_meta_json(tree, meta)
        except PARSER_ERRORS as exc:  # a bug in its JSON-LD reader must not lose the page
            logger.warning(
                "JSON-LD metadata of %s could not be read (%s: %s); other metadata kept",
                url or "a page without URL",
                type(exc).__name__,
                exc,
                extra={"url": url},
            )
        title = meta.title or tmeta.extract_title(tree)
        author = meta.author or self.author(tree)
        page_url = meta.url or tmeta.extract_url(tree, url)

        @cache  # run later, on the same tree (nothing changes it), at most once
        def search_date() -> str | None:
            try:
                with bounded_json_ld(tree):
                    return _find_date(tree, page_url)
            except PARSER_ERRORS as exc:
                raise DeferredError(str(exc)) from exc

        return PageMetadata(
            title=title,
            author=author,
            url=page_url,
            find_date=search_date,
            sitename=_tidy_sitename(meta.sitename or tmeta.extract_sitename(tree)),
            description=meta.description,
        )

    def author(self, tree: HtmlElement) -> str | None:
        """trafilatura's extract_author, in one pass over the elements."""
        if next(tree.iter("rel"), None) is not None:
            # Its first expression tests a child <rel> element's text, which pruning changes.
            return tmeta.extract_author(tree)
        ranks, pruned = _author_candidates(tree)
        gone = set(pruned)
        for candidates in ranks:
            for el in candidates:
                content = _pruned_text(el, tree, pruned, gone)
                if content and 2 < len(content) < _AUTHOR_MAX_CHARS:
                    return tjson.normalize_authors(None, content)
        return None


INTERNALS: Final = _Internals()
PUBLIC: Final = _Public()


# lxml.html's parser chooses each element's Python class (FormElement for <form>, ...) in a
# Python callback, run every time lxml hands an element to Python: thousands of times a page
# in trafilatura, a few percent of our time. This copy of trafilatura's parser makes every
# element a plain HtmlElement without the callback (nothing here uses the form classes), and
# the copies trafilatura and htmldate make of our tree keep it.
@cache
def _html_parser() -> etree.HTMLParser:
    parser: etree.HTMLParser = tutils.HTML_PARSER.copy()
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    return parser


def _find_date(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's quick pass (markup, meta, URL) first, the extensive text search only if it
    finds nothing: on the dev corpus 2.0 ms a page instead of 12.6, and 34/48 dates right on
    the same day instead of 33/48 (the quick pass prefers explicit markup)."""
    for extensive in (False, True):
        config: dict[str, Any] = tsettings.set_date_params(extensive)
        config["url"] = url
        date: str | None = find_date(tree, **config)
        if date:
            return date
    return None


# --- author search ------------------------------------------------------------------------
# trafilatura's extract_author copies the page, prunes it with AUTHOR_DISCARD_XPATHS and runs
# up to three AUTHOR_XPATHS over every element: 4.7 ms on a page whose meta tags name no
# author, as libxml2 evaluates attribute predicates slowly. _Internals.author applies the same
# tests (these tags, attributes and regexes) in one pass over the elements and copies only a
# candidate that holds a pruned element. AUTHOR_RULES_DIGEST pins trafilatura's expressions,
# and tests/test_trafilatura.py checks that both give the same author on every corpus page.
_AUTHOR_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_BYLINE_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_AUTHOR_NAME_CLASS = re.compile("author-?name|AuthorName|authorName")
_BYLINE_ID = re.compile("author|zuozhe|bianji|xiaobian")
_BYLINE_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_LOOSE_ID = re.compile("[Aa]uthor")
_LOOSE_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    "|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
_AUTHOR_MAX_CHARS = 120


def _author_candidates(
    tree: HtmlElement,
) -> tuple[list[list[HtmlElement]], list[HtmlElement]]:
    """Elements each author expression selects, and the elements its pruning deletes (in the
    order trafilatura deletes them: the first discard expression's, then time and figure)."""
    ranks: list[list[HtmlElement]] = [[], [], []]
    discard: list[HtmlElement] = []
    times: list[HtmlElement] = []
    for el in tree.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        cls, id_ = el.get("class") or "", el.get("id") or ""
        itemprop, component = el.get("itemprop") or "", el.get("data-component") or ""
        if tag == "author" or (
            tag in _AUTHOR_TAGS
            and (
                el.get("rel") == "author"
                or id_ == "author"
                or cls == "author"
                or itemprop == "author name"
                or el.get("data-testid") in ("AuthorCard", "AuthorURL")
                or _AUTHOR_NAME_CLASS.search(cls)
            )
        ):
            ranks[0].append(el)
        if tag in _BYLINE_TAGS and (
            cls in ("byline", "username", "byl", "BBL")
            or "author" in itemprop
            or _BYLINE_ID.search(id_)
            or _BYLINE_CLASS.search(cls)
        ):
            ranks[1].append(el)
        if (
            "Byline" in component
            or "author" in itemprop
            or _LOOSE_ID.search(id_)
            or _LOOSE_CLASS.search(cls)
        ):
            ranks[2].append(el)
        if el is tree:  # the root of the copy has no parent and is never deleted
            continue
        if tag in _DISCARD_TAGS and (
            id_ == "comments"
            or cls in ("comments", "title", "date")
            or _DISCARD_ID.search(id_)
            or _DISCARD_CLASS.search(cls)
            or "Figure" in component
        ):
            discard.append(el)
        if tag in ("time", "figure"):
            times.append(el)
    return ranks, discard + times


def _pruned_text(
    el: HtmlElement, tree: HtmlElement, pruned: list[HtmlElement], gone: set[HtmlElement]
) -> str | None:
    """The element's text once the pruned elements are deleted; None if it is deleted too."""
    node: HtmlElement | None = el
    while node is not None and node is not tree:
        if node in gone:
            return None
        node = node.getparent()
    if not any(d in gone for d in el.iterdescendants()):
        return tutils.trim(" ".join(el.itertext()))
    copied = deepcopy(el)
    counterpart = dict(zip(el.iter(), copied.iter(), strict=True))
    for d in pruned:
        if d in counterpart:
            txml.delete_element(counterpart[d])
    return tutils.trim(" ".join(copied.itertext()))


# --- which engine -------------------------------------------------------------------------
# The internals used above, by module, with the leading parameters each call passes.
_SHAPES: Final = (
    ("trafilatura.metadata", "examine_meta", ("tree",)),
    ("trafilatura.metadata", "extract_meta_json", ("tree", "metadata")),
    ("trafilatura.metadata", "extract_title", ("tree",)),
    ("trafilatura.metadata", "extract_author", ("tree",)),
    ("trafilatura.metadata", "extract_url", ("tree", "default_url")),
    ("trafilatura.metadata", "extract_sitename", ("tree",)),
    ("trafilatura.settings", "set_date_params", ("extensive",)),
    ("trafilatura.utils", "repair_faulty_html", ("htmlstring", "beginning")),
    ("trafilatura.utils", "is_dubious_html", ("beginning",)),
    ("trafilatura.utils", "trim", ("string",)),
    ("trafilatura.xml", "delete_element", ("element",)),
    ("trafilatura.json_metadata", "normalize_authors", ("current_authors", "author_string")),
)
_DOCUMENT_FIELDS: Final = ("title", "author", "url", "sitename", "description")


def _series(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def author_rules_digest() -> str:
    """A digest of the trafilatura rules the author search mirrors ("" if unreadable)."""
    try:
        rules = [x.path for x in txpaths.AUTHOR_XPATHS + txpaths.AUTHOR_DISCARD_XPATHS]
        rules += [
            inspect.getsource(tmeta.extract_author),
            inspect.getsource(tmeta.extract_metainfo),
        ]
    except (AttributeError, OSError, TypeError):
        return ""
    return hashlib.sha256("\n".join(rules).encode()).hexdigest()


def internals_problem(version: str | None = None) -> str | None:
    """Why the internals path cannot run with this trafilatura (``version`` defaults to the
    installed one), or None when it can."""
    version = trafilatura.__version__ if version is None else version
    if _series(version) != TESTED_SERIES:
        tested = ".".join(map(str, TESTED_SERIES))
        return f"trafilatura {version} is not the tested series {tested}"
    if _IMPORT_PROBLEM:  # pragma: no cover - only with a changed trafilatura
        return _IMPORT_PROBLEM
    modules = {m.__name__: m for m in (tjson, tmeta, tsettings, tutils, txml)}
    for module, name, leading in _SHAPES:
        function = getattr(modules[module], name, None)
        if not callable(function):
            return f"{module}.{name} is missing"
        try:
            parameters = tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
            return f"{module}.{name} has no inspectable signature"
        if parameters[: len(leading)] != leading:
            return f"{module}.{name} takes ({', '.join(parameters)})"
    if not isinstance(getattr(tutils, "HTML_PARSER", None), etree.HTMLParser):
        return "trafilatura.utils.HTML_PARSER is not an lxml HTMLParser"
    if not all(hasattr(tsettings.Document(), field) for field in _DOCUMENT_FIELDS):
        return "trafilatura.settings.Document lost a metadata field"
    if author_rules_digest() != AUTHOR_RULES_DIGEST:
        return "its author rules changed (the one-pass author search mirrors them)"
    return None


def select_engine(version: str | None = None) -> Engine:
    """The engine for a trafilatura ``version`` (default: the installed one), logged."""
    shown = trafilatura.__version__ if version is None else version
    problem = internals_problem(version)
    if problem is None:
        logger.info("trafilatura %s: extraction uses its internals (tested series)", shown)
        return INTERNALS
    logger.warning(
        "trafilatura %s: %s; extraction falls back to its public API (bare_extraction): "
        "slower, with trafilatura's own metadata rules. Pin trafilatura %s.x to restore it.",
        shown,
        problem,
        ".".join(map(str, TESTED_SERIES)),
    )
    return PUBLIC


@cache
def engine() -> Engine:
    """The engine for the installed trafilatura, chosen (and logged) once per process."""
    return select_engine()
