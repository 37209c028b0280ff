"""Django's Redis cache, with one ``redis.Redis`` client per connection pool instead of one per call.

Django's client builds a new ``redis.Redis`` for every operation, and each builds its table of some
eighty response callbacks: about a fifth of a millisecond of CPU, paid on the checkout by the parcel
filing's pending marker (``core.tasks.enqueue_ids``) at every payment. The client is thread-safe and
holds nothing but its pool, which redis-py already makes anew in a forked process.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
