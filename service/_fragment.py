"""HTML fragments as documents: a body without ``<html>``, a page wrapped in an element of
its own, the HTML of an RSS ``content:encoded``.

lxml parses a fragment into its first element alone (or into nothing trafilatura reads),
and trafilatura's loader refuses what does not look like a page; wrapped in ``<html><body>``,
a fragment is a page body like any other.
"""

from __future__ import annotations

import re
from html import unescape

__all__ = ["as_document"]

# Only the start of the input is searched for tags: a page names its root there.
_SCAN = 200_000
# A document names its root; anything else is a fragment: a body without <html>, a page
# wrapped in an element of its own, the HTML of an RSS content:encoded.
_HTML_TAG = re.compile(r"<html[\s>]", re.IGNORECASE)
_DOCUMENT_PARTS = re.compile(r"<(?:head|body)[\s>]", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[A-Za-z!/?]")
_ESCAPED_TAG = re.compile(r"&lt;(?:p|div|br|h[1-6]|ul|ol|li|a|img|figure|blockquote|span)\b", re.I)
_CDATA_OPEN = "<![CDATA["


def as_document(html: str) -> str:
    """The page as a whole HTML document: a fragment is wrapped in ``<html><body>`` (in
    ``<html>`` when it has its own head or body). A feed's content may arrive still in its
    CDATA section, or escaped once (``&lt;p&gt;``): both are undone first."""
    head = html[:_SCAN]
    if _HTML_TAG.search(head):
        return html
    text = html.strip()
    if text.startswith(_CDATA_OPEN) and text.endswith("]]>"):
        text = text[len(_CDATA_OPEN) : -3]
    if not _ANY_TAG.search(text[:_SCAN]) and _ESCAPED_TAG.search(text[:_SCAN]):
        text = unescape(text)
    if _DOCUMENT_PARTS.search(text[:_SCAN]):
        return f"<html>{text}</html>"
    return f"<html><body>{text}</body></html>"
