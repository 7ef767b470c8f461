"""What a provider returns and how it fails."""

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

HASHTAG = re.compile(r"#(\w+)")


class ProviderError(Exception):
    """Base of every provider failure."""


class ProfileNotFound(ProviderError):
    """No such profile (HTTP 404)."""


class UpstreamError(ProviderError):
    """The upstream failed or answered nonsense (HTTP 502)."""


class UpstreamTimeout(ProviderError):
    """The upstream did not answer in time (HTTP 504)."""


@dataclass(frozen=True)
class Profile:
    username: str
    full_name: str
    biography: str
    category: str | None
    is_verified: bool
    followers_count: int
    follows_count: int
    media_count: int
    profile_picture_url: str = ""
    follower_history: tuple[tuple[str, int], ...] = field(default_factory=tuple)  # (YYYY-MM, followers)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["follower_history"] = [{"month": month, "followers": count} for month, count in self.follower_history]
        return data


@dataclass(frozen=True)
class Post:
    id: str
    caption: str
    media_type: str
    like_count: int
    comments_count: int
    timestamp: datetime
    permalink: str = ""

    @property
    def hashtags(self) -> tuple[str, ...]:
        return tuple(tag.lower() for tag in HASHTAG.findall(self.caption or ""))

    @property
    def engagement(self) -> int:
        return self.like_count + self.comments_count

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "caption": self.caption,
            "media_type": self.media_type,
            "like_count": self.like_count,
            "comments_count": self.comments_count,
            "timestamp": self.timestamp.isoformat(),
            "permalink": self.permalink,
            "hashtags": list(self.hashtags),
        }


class InstagramProvider:
    name = "base"

    def get_profile(self, username: str) -> Profile:
        raise NotImplementedError

    def get_posts(self, username: str, limit: int = 50) -> list[Post]:
        """Newest first."""
        raise NotImplementedError
