"""The default cache: Redis, falling back to process memory while Redis is down or hung.

Decided per use (README, "When a dependency fails"):
- provider results (instagram/providers): fail open: a miss only means asking the provider again;
- throttle counters (DRF throttles read and write this cache): fail open to per-process counting,
  so a Redis outage loosens the limits by the number of server processes instead of refusing
  every gated and token request, and never turns them into 500s. Credits stay protected by the
  gate, which does not use the cache.

A Redis call that fails (refused, reset, or no answer within the socket timeout) marks Redis down
for FAILOVER_SECONDS: during that time calls go straight to memory, so a hung Redis costs one
socket timeout per process per window, not one per request.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("credits.cache")

FAILURES = (RedisError, OSError)


class FailoverCache(BaseCache):
    def __init__(self, location, params):
        params = dict(params)
        options = dict(params.pop("OPTIONS", {}) or {})
        self.failover_seconds = float(options.pop("FAILOVER_SECONDS", 5))
        super().__init__(params)
        self.primary = RedisCache(location, {**params, "OPTIONS": options})
        self.fallback = LocMemCache(f"failover:{location}", params)
        self._down_until = 0.0

    @property
    def redis_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args, **kwargs):
        if not self.redis_down:
            try:
                return getattr(self.primary, name)(*args, **kwargs)
            except FAILURES as error:
                self._down_until = time.monotonic() + self.failover_seconds
                logger.warning("redis cache unavailable (%s: %s); using process memory for %.0f s",
                               type(error).__name__, error, self.failover_seconds)
                from .metrics import CACHE_FAILOVERS  # imported late: metrics imports the cache

                CACHE_FAILOVERS.inc()
        return getattr(self.fallback, name)(*args, **kwargs)

    def ping(self) -> bool:
        """Whether Redis answers now (health); does not trip or reset the failover window."""
        try:
            return bool(self.primary._cache.get_client().ping())
        except FAILURES:
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")

    def close(self, **kwargs):
        self.primary.close(**kwargs)
