"""Per-workspace document frequencies of the most common search lexemes.

The keyword leg ignores lexemes that occur in a large share of chunks: they add
almost no ranking evidence and would make every query rank most of the table. The
set is computed with PostgreSQL's ts_stat, cached in Redis, and refreshed in the
background (Celery) when it gets old, so searches never wait for it after the first.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection

# A lexeme is "common" when it occurs in more chunks than this share, and the workspace
# is big enough for it to matter (below MIN_DOCS, ranking every match is cheap anyway).
COMMON_SHARE = 0.01
MIN_DOCS = 1000
MAX_AGE_S = 600


def _key(workspace_id: int) -> str:
    return f"knowledge:common-lexemes:{workspace_id}"


def compute(workspace_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM knowledge_chunk WHERE workspace_id = %s", [workspace_id]
        )
        total = cursor.fetchone()[0]
        threshold = max(MIN_DOCS, int(total * COMMON_SHARE))
        if total <= threshold:
            return {}
        cursor.execute(
            "SELECT word, ndoc FROM ts_stat(%s) WHERE ndoc > %s",
            [
                # ts_stat takes its query as text; the id is an int, so nothing can be injected.
                f"SELECT search_vector FROM knowledge_chunk WHERE workspace_id = {int(workspace_id)}",  # noqa: E501, S608
                threshold,
            ],
        )
        return dict(cursor.fetchall())


def refresh(workspace_id: int) -> dict[str, int]:
    common = compute(workspace_id)
    cache.set(_key(workspace_id), {"at": time.time(), "common": common}, timeout=86400)
    return common


def common_lexemes(workspace_id: int) -> dict[str, int]:
    entry = cache.get(_key(workspace_id))
    if entry is None:
        return refresh(workspace_id)
    if time.time() - entry["at"] > MAX_AGE_S and cache.add(
        f"{_key(workspace_id)}:refreshing", 1, timeout=120
    ):
        from .tasks import lexicon_refresh

        lexicon_refresh.delay(workspace_id)
    return entry["common"]
