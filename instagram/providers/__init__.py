"""Choosing the provider (settings.INSTAGRAM_PROVIDER) and caching what it returns."""

from django.conf import settings
from django.core.cache import cache

from .base import InstagramProvider, Post, Profile
from .demo import DemoProvider, post_from, profile_from
from .graph import GraphProvider


class CachedProvider(InstagramProvider):
    """Caches successful answers as plain dicts; failures are never cached."""

    def __init__(self, inner: InstagramProvider, *, backend=cache, ttl: int = 300):
        self.inner, self.backend, self.ttl = inner, backend, ttl
        self.name = inner.name

    def _key(self, kind: str, username: str) -> str:
        return f"instagram:{self.inner.name}:{kind}:{username}"

    def _cached(self, key: str, decode):
        """What the cache holds for `key`, decoded; None on a miss or an entry that does not decode
        (written by another version): either way the provider is asked again."""
        cached = self.backend.get(key)
        if cached is None:
            return None
        try:
            return decode(cached)
        except (KeyError, TypeError, ValueError):
            return None

    def get_profile(self, username: str) -> Profile:
        key = self._key("profile", username)
        cached = self._cached(key, profile_from)
        if cached is not None:
            return cached
        profile = self.inner.get_profile(username)
        data = profile.to_dict()
        data["follower_history"] = list(profile.follower_history)
        self.backend.set(key, data, self.ttl)
        return profile

    def get_posts(self, username: str, limit: int = 50) -> list[Post]:
        key = self._key(f"posts:{limit}", username)
        cached = self._cached(key, lambda items: [post_from(item) for item in items])
        if cached is not None:
            return cached
        posts = self.inner.get_posts(username, limit)
        self.backend.set(key, [post.to_dict() for post in posts], self.ttl)
        return posts


def build_provider(name: str) -> InstagramProvider:
    if name == "graph":
        return GraphProvider(
            base_url=settings.INSTAGRAM_GRAPH_BASE_URL,
            access_token=settings.INSTAGRAM_ACCESS_TOKEN,
            business_account_id=settings.INSTAGRAM_BUSINESS_ACCOUNT_ID,
            timeout=settings.INSTAGRAM_TIMEOUT_SECONDS,
            max_bytes=settings.INSTAGRAM_MAX_RESPONSE_BYTES,
        )
    return DemoProvider(latency_ms=settings.INSTAGRAM_DEMO_LATENCY_MS)


def get_provider() -> InstagramProvider:
    provider = build_provider(settings.INSTAGRAM_PROVIDER)
    if settings.INSTAGRAM_CACHE_SECONDS > 0:
        provider = CachedProvider(provider, ttl=settings.INSTAGRAM_CACHE_SECONDS)
    return provider
