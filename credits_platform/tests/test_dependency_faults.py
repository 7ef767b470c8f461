"""Redis and PostgreSQL failing under the app: private servers, stopped and hung for real.

Redis (cache and throttle store) down or hung: requests still answer, within the socket timeout,
and are charged exactly once. The database down: 503 `service_unavailable` with Retry-After on
every endpoint (health included, which names the database), and service resumes by itself once
it is back.
"""

import time

import pytest
import redis
from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from testing.clients import client_for
from testing.private_services import PrivateRedis
from transactions.models import LedgerEntry
from wallets.models import Wallet
from wallets.verification import ledger_problems

SOCKET_TIMEOUT = 0.2


@pytest.fixture(scope="module")
def private_redis():
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def redis_cache(settings, private_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.FailoverCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT, "FAILOVER_SECONDS": 2},
        }
    }
    redis.Redis.from_url(private_redis.url).flushall()
    yield caches["default"]
    private_redis.resume()


def balance(user) -> int:
    return Wallet.objects.get(pk=user.pk).current_balance


@pytest.mark.django_db
class TestRedis:
    def test_the_cache_and_throttles_really_use_redis(self, redis_cache, private_redis, make_user):
        client = client_for(make_user(balance=100))
        assert client.get("/api/v1/profile/dev_dan/posts").status_code == 200
        keys = {key.decode() for key in redis.Redis.from_url(private_redis.url).keys("*")}
        assert any("throttle_gated" in key for key in keys) and any("instagram:demo" in key for key in keys)

    @pytest.mark.parametrize("fault", ["hang", "stop"])
    def test_requests_answer_without_redis_and_are_charged_once(self, redis_cache, private_redis, make_user, fault):
        user = make_user(balance=100)
        client = client_for(user)
        assert client.get("/api/v1/profile/dev_dan/posts").status_code == 200
        if fault == "hang":
            private_redis.hang()
        else:
            private_redis.stop()
        try:
            started = time.monotonic()
            answers = [client.get(f"/api/v1/profile/{name}/ai-insights").status_code for name in ("dev_dan", "eco_emma")]
            token = client.post("/api/v1/auth/token/", {"username": user.username, "password": "password"}, format="json")
            elapsed = time.monotonic() - started
        finally:
            if fault == "stop":
                private_redis.start()
        assert answers == [200, 200] and token.status_code in (200, 401)
        # One socket timeout at most: after it, the cache stops asking Redis for FAILOVER_SECONDS.
        assert elapsed < 3 * SOCKET_TIMEOUT + 1.0
        assert balance(user) == 100 - 10 - 20 - 20
        assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").count() == 3
        assert ledger_problems() == []

    def test_throttles_still_limit_per_process_while_redis_is_hung(self, redis_cache, private_redis, make_user, monkeypatch):
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "100/min", "gated": "3/min"})
        client = client_for(make_user(balance=1000))
        private_redis.hang()
        statuses = [client.get("/api/v1/profile/dev_dan").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]

    def test_the_cache_returns_to_redis_when_it_is_back(self, redis_cache, private_redis):
        private_redis.hang()
        redis_cache.set("k", 1)
        assert redis_cache.redis_down and not redis_cache.ping()
        private_redis.resume()
        time.sleep(redis_cache.failover_seconds + 0.1)
        redis_cache.set("k", 2)
        assert not redis_cache.redis_down and redis_cache.ping()
        assert redis_cache.primary.get("k") == 2
