"""In-process retries, for callers without a task queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from ..errors import TransientFetchError
from ..records import Fetched, Source, Validators
from ..retry import backoff_delay
from ._guard import make_client
from ._http import ARTICLE, fetch_url
from ._policy import FetchPolicy

if TYPE_CHECKING:
    from ..politeness import Politeness


def fetch_with_retries(
    source: Source,
    policy: FetchPolicy,
    client: httpx.Client | None = None,
    *,
    attempts: int,
    backoff_max: float,
    politeness: Politeness | None = None,
    validators: Validators | None = None,
    accept: str = ARTICLE,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """:func:`fetch_url` with in-process retries of transient errors, for callers without a
    task queue (the CLI, a feed poll). A Retry-After longer than ``backoff_max`` is not
    waited for: the error is raised so a scheduler can come back later."""
    own = client is None
    http = make_client(policy) if client is None else client
    try:
        for attempt in range(max(1, attempts)):
            try:
                return fetch_url(
                    source,
                    policy,
                    http,
                    politeness=politeness,
                    validators=validators,
                    accept=accept,
                )
            except TransientFetchError as exc:
                too_long = exc.retry_after is not None and exc.retry_after > backoff_max
                if attempt + 1 >= attempts or too_long:
                    raise
                sleep(backoff_delay(attempt, exc.retry_after, backoff_max))
        raise AssertionError("unreachable")
    finally:
        if own:
            http.close()
