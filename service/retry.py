"""The one back-off rule of the service, shared by in-process retries and the Celery tasks."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, retry_after: float | None, cap: float, *, base: float = 0.5
) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins when longer.

    Full jitter spreads the retries of many workers that failed together; the result never
    exceeds ``cap``, even when the server asks for longer.
    """
    delay = random.uniform(0, min(cap, base * 2.0**attempt))
    # NaN is no advice; infinity is "longer than the cap".
    wanted = retry_after if retry_after is not None and retry_after == retry_after else 0.0
    return min(cap, max(delay, wanted))
