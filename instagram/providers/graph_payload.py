"""The Graph API's answer, checked field by field before anything computes with it.

Whatever the upstream sends (a list where an object belongs, a count of 10**400, a string for a
number, naive and aware timestamps mixed), the result is either well-typed `Profile` and `Post`
values the analytics can trust, or `UpstreamError` (a 502, nothing charged).
"""

from datetime import UTC, datetime

from .base import Post, Profile, UpstreamError

MAX_COUNT = 10**12  # far above any real follower or like count, far below float overflow
MAX_TEXT = 10_000


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise UpstreamError(f"upstream {what} is not an object")
    return value


def _text(data: dict, name: str, *, required: bool = False) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > MAX_TEXT:
        raise UpstreamError(f"upstream {name} is not a valid string")
    return value


def _count(data: dict, name: str) -> int:
    value = data.get(name)
    if value is None:
        return 0  # Graph leaves counts out when the owner hides them
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise UpstreamError(f"upstream {name} is not a count")
    return value


def _timestamp(data: dict) -> datetime:
    """Aware UTC; Graph sends `2026-10-01T10:00:00+0000`, and a naive time is taken as UTC."""
    try:
        moment = datetime.fromisoformat(_text(data, "timestamp", required=True))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UpstreamError("upstream timestamp is not a valid time") from None


def discovery_of(document) -> dict:
    return _object(_object(document, "answer").get("business_discovery"), "business_discovery")


def profile_of(data: dict) -> Profile:
    return Profile(
        username=_text(data, "username", required=True),
        full_name=_text(data, "name"),
        biography=_text(data, "biography"),
        category=None,
        is_verified=data.get("is_verified") is True,
        followers_count=_count(data, "followers_count"),
        follows_count=_count(data, "follows_count"),
        media_count=_count(data, "media_count"),
        profile_picture_url=_text(data, "profile_picture_url"),
    )


def _post_of(item) -> Post:
    item = _object(item, "media item")
    post_id = item.get("id")
    if isinstance(post_id, bool) or not isinstance(post_id, (str, int)) or not str(post_id) or len(str(post_id)) > 64:
        raise UpstreamError("upstream media id is not valid")
    return Post(
        id=str(post_id),
        caption=_text(item, "caption"),
        media_type=_text(item, "media_type") or "IMAGE",
        like_count=_count(item, "like_count"),
        comments_count=_count(item, "comments_count"),
        timestamp=_timestamp(item),
        permalink=_text(item, "permalink"),
    )


def posts_of(data: dict, limit: int) -> list[Post]:
    """Newest first, at most `limit`."""
    media = data.get("media")
    if media is None:
        return []
    items = _object(media, "media").get("data", [])
    if not isinstance(items, list):
        raise UpstreamError("upstream media.data is not a list")
    posts = [_post_of(item) for item in items[:limit]]
    return sorted(posts, key=lambda post: post.timestamp, reverse=True)
