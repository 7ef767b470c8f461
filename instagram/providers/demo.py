"""The demo catalogue: fictional profiles and posts shipped in `instagram/data/demo_profiles.json`."""

import json
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from .base import InstagramProvider, Post, Profile, ProfileNotFound

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "demo_profiles.json"


@lru_cache(maxsize=1)
def catalogue() -> dict:
    with CATALOGUE.open(encoding="utf-8") as handle:
        return json.load(handle)


def profile_from(data: dict) -> Profile:
    return Profile(
        username=data["username"],
        full_name=data["full_name"],
        biography=data["biography"],
        category=data.get("category"),
        is_verified=bool(data.get("is_verified")),
        followers_count=int(data["followers_count"]),
        follows_count=int(data["follows_count"]),
        media_count=int(data["media_count"]),
        profile_picture_url=data.get("profile_picture_url", ""),
        follower_history=tuple((month, int(count)) for month, count in data.get("follower_history", [])),
    )


def post_from(data: dict) -> Post:
    return Post(
        id=str(data["id"]),
        caption=data.get("caption") or "",
        media_type=data.get("media_type", "IMAGE"),
        like_count=int(data.get("like_count") or 0),
        comments_count=int(data.get("comments_count") or 0),
        timestamp=datetime.fromisoformat(data["timestamp"]),
        permalink=data.get("permalink", ""),
    )


class DemoProvider(InstagramProvider):
    """`latency_ms` (INSTAGRAM_DEMO_LATENCY_MS) makes every call that slow, like a real upstream."""

    name = "demo"
    latency_ms = 0

    def __init__(self, *, latency_ms: int = 0):
        self.latency_ms = latency_ms

    def _entry(self, username: str) -> dict:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        try:
            return catalogue()[username]
        except KeyError:
            raise ProfileNotFound(username) from None

    def get_profile(self, username: str) -> Profile:
        return profile_from(self._entry(username))

    def get_posts(self, username: str, limit: int = 50) -> list[Post]:
        return [post_from(post) for post in self._entry(username)["posts"][:limit]]
