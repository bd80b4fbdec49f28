"""The Redis translation cache, on a real Redis and the real zh->en package."""

from __future__ import annotations

from pathlib import Path

import redis

from service.embedded import free_port
from service.settings import Settings
from service.tcache import CacheScope, TranslationCache
from service.translate import Engine

TITLE = "美国考虑软件出口管制"
PARAGRAPHS = [
    "美国财政部长表示，所有选项都在桌面上。他说，措施将与七国集团协调。",
    "本周，中国海关总署公布了统计数据。",
]
SCOPE = CacheScope("translate-zh_en-1_9", "1.9", "beam2-int8-cut200")


def _cache(client: redis.Redis, settings: Settings, **overrides: int) -> TranslationCache:
    options = {"max_entries": 1000, "ttl": 3600, **overrides}
    return TranslationCache(client, key_prefix=settings.key_prefix, **options)


def _entry_keys(client: redis.Redis, settings: Settings) -> list[str]:
    index = f"{settings.key_prefix}:tcache:index"
    return [
        k.decode()
        for k in client.scan_iter(match=f"{settings.key_prefix}:tcache:*", count=1000)
        if k.decode() != index
    ]


def test_a_cached_document_is_translated_without_the_model(
    packages_dir: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    cache = _cache(redis_client, settings)
    first = Engine(packages_dir, cache=cache).translate_document("zh", TITLE, PARAGRAPHS)
    warm = Engine(packages_dir, cache=cache)
    second = warm.translate_document("zh", TITLE, PARAGRAPHS)
    assert warm.stats.sentences_translated == 0
    assert (second.title_en, second.paragraphs_en) == (first.title_en, first.paragraphs_en)


def test_a_reingested_document_hits_the_cache_for_every_sentence(
    packages_dir: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    engine = Engine(packages_dir, cache=_cache(redis_client, settings))
    engine.translate_document("zh", TITLE, PARAGRAPHS)
    assert engine.stats.cache_hits == 0
    result = engine.translate_document("zh", TITLE, PARAGRAPHS)
    assert engine.stats.cache_hits == result.sentences == 4


def test_an_updated_document_translates_only_its_new_sentences(
    packages_dir: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    engine = Engine(packages_dir, cache=_cache(redis_client, settings))
    engine.translate_document("zh", TITLE, PARAGRAPHS)
    before = engine.stats.sentences_translated
    engine.translate_document("zh", TITLE, [*PARAGRAPHS, "他离开了会场。"])
    assert engine.stats.sentences_translated - before == 1


def test_cache_keys_carry_the_package_id_and_version(
    packages_dir: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    Engine(packages_dir, cache=_cache(redis_client, settings)).translate_document(
        "zh", TITLE, PARAGRAPHS
    )
    keys = _entry_keys(redis_client, settings)
    assert len(keys) == 4
    assert all(k.startswith(f"{settings.key_prefix}:tcache:translate-zh_en-1_9:1.9:") for k in keys)


def test_other_decoding_settings_do_not_share_cached_translations(packages_dir: Path) -> None:
    info = Engine(packages_dir).package_for("zh")
    assert info is not None
    beam1 = Engine(packages_dir, beam_size=1).cache_scope(info)
    beam2 = Engine(packages_dir, beam_size=2).cache_scope(info)
    assert beam1.variant != beam2.variant


def test_the_cache_never_holds_more_than_max_entries(
    redis_client: redis.Redis, settings: Settings
) -> None:
    cache = _cache(redis_client, settings, max_entries=50)
    for start in range(0, 240, 60):
        cache.put_many(SCOPE, {f"句子{i}。": f"sentence {i}." for i in range(start, start + 60)})
    assert len(_entry_keys(redis_client, settings)) == 50
    assert cache.size() == 50


def test_the_least_recently_used_entries_are_evicted_first(
    redis_client: redis.Redis, settings: Settings
) -> None:
    cache = _cache(redis_client, settings, max_entries=3)
    for sentence, translation in [("一。", "one."), ("二。", "two."), ("三。", "three.")]:
        cache.put_many(SCOPE, {sentence: translation})
    assert cache.get_many(SCOPE, ["一。"]) == {"一。": "one."}  # now the most recently used
    cache.put_many(SCOPE, {"四。": "four."})
    assert cache.get_many(SCOPE, ["一。", "二。", "三。", "四。"]) == {
        "一。": "one.",
        "三。": "three.",
        "四。": "four.",
    }


def test_cache_entries_expire(redis_client: redis.Redis, settings: Settings) -> None:
    cache = _cache(redis_client, settings, ttl=120)
    cache.put_many(SCOPE, {"一。": "one."})
    assert 0 < redis_client.ttl(cache.key(SCOPE, "一。")) <= 120
    assert 0 < redis_client.ttl(cache.index_key) <= 120


def test_the_cache_bound_and_lifetime_come_from_settings(
    redis_client: redis.Redis, settings: Settings
) -> None:
    cache = TranslationCache.from_settings(redis_client, settings)
    assert cache.max_entries == settings.translate_cache_max_entries
    assert cache.ttl == settings.translate_cache_ttl
    assert cache.index_key.startswith(f"{settings.key_prefix}:")


def test_an_unreachable_redis_degrades_to_translating(
    packages_dir: Path, settings: Settings
) -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    cache = _cache(client, settings)
    engine = Engine(packages_dir, cache=cache)
    result = engine.translate_document("zh", TITLE, PARAGRAPHS)
    assert result.status == "translated"
    assert result.paragraphs_en and len(result.paragraphs_en) == 2
    assert engine.stats.sentences_translated == 4
    # One failed read opens the breaker, so the write is skipped instead of timing out too.
    assert cache.errors == 1


def test_a_syndicated_copy_translates_only_its_own_lines(
    packages_dir: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    engine = Engine(packages_dir, cache=_cache(redis_client, settings))
    engine.translate_document("zh", TITLE, PARAGRAPHS)
    before = engine.stats.sentences_translated
    # The same wire story on another site: its own title decoration and source line.
    copy = engine.translate_document("zh", f"{TITLE}_新浪新闻", ["来源：新华社", *PARAGRAPHS])
    assert engine.stats.sentences_translated - before == 2
    assert copy.paragraphs_en is not None and len(copy.paragraphs_en) == 3


def test_protection_and_the_glossary_are_part_of_the_cache_key(packages_dir: Path) -> None:
    info = Engine(packages_dir).package_for("zh")
    assert info is not None
    variants = {
        Engine(packages_dir, **options).cache_scope(info).variant
        for options in ({}, {"protect": False}, {"glossary": {"zh": {"中美": "China–US"}}})
    }
    assert len(variants) == 3
