"""core.cache.RedisCache: Django's Redis cache with one client per pool, on the real Redis."""

import pytest
from django.conf import settings

from core.cache import RedisCache


@pytest.fixture
def cache():
    backend = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-core-cache"})
    yield backend
    backend.delete_many(["marker", "other"])


def test_add_sets_once_until_deleted_and_reuses_one_client(cache):
    client = cache._cache.get_client(write=True)

    assert cache.add("marker", 1, timeout=30) is True
    assert cache.add("marker", 2, timeout=30) is False  # another process's add finds it set
    assert cache.get("marker") == 1
    cache.delete("marker")
    assert cache.add("marker", 3, timeout=30) is True

    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client  # one server: reads and writes share the pool
