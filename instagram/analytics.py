"""Profile analytics computed from a profile and its recent posts (all UTC)."""

from collections import defaultdict
from statistics import mean

from .providers.base import Post, Profile

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _r(value: float) -> float:
    return round(float(value), 2)


def engagement_rate(profile: Profile, posts: list[Post]) -> float:
    """Mean likes + comments per post, as a percentage of followers."""
    if not posts or not profile.followers_count:
        return 0.0
    return _r(mean(post.engagement for post in posts) / profile.followers_count * 100)


def follower_growth(profile: Profile) -> dict:
    history = list(profile.follower_history)
    monthly = [{"month": month, "followers": count} for month, count in history]
    if len(history) < 2 or not history[0][1]:
        return {"absolute": 0, "percent": 0.0, "period_months": max(0, len(history) - 1), "monthly": monthly}
    first, last = history[0][1], history[-1][1]
    return {
        "absolute": last - first,
        "percent": _r((last - first) / first * 100),
        "period_months": len(history) - 1,
        "monthly": monthly,
    }


def posting_frequency(posts: list[Post]) -> dict:
    if len(posts) < 2:
        return {"posts_per_week": float(len(posts)), "avg_days_between_posts": 0.0}
    times = sorted(post.timestamp for post in posts)
    span_days = max((times[-1] - times[0]).total_seconds() / 86400, 1 / 24)
    return {
        "posts_per_week": _r((len(posts) - 1) / span_days * 7),
        "avg_days_between_posts": _r(span_days / (len(posts) - 1)),
    }


def _best(groups: dict, label: str, top: int = 3) -> list[dict]:
    ranked = sorted(groups.items(), key=lambda item: (-mean(item[1]), item[0]))
    return [{label: key, "avg_engagement": _r(mean(values)), "posts": len(values)} for key, values in ranked[:top]]


def best_hours(posts: list[Post]) -> list[dict]:
    groups = defaultdict(list)
    for post in posts:
        groups[post.timestamp.hour].append(post.engagement)
    return _best(groups, "hour")


def best_weekdays(posts: list[Post]) -> list[dict]:
    groups = defaultdict(list)
    for post in posts:
        groups[post.timestamp.weekday()].append(post.engagement)
    return [{**row, "weekday": WEEKDAYS[row["weekday"]]} for row in _best(groups, "weekday")]


def top_hashtags(posts: list[Post], top: int = 10) -> list[dict]:
    groups = defaultdict(list)
    for post in posts:
        for tag in set(post.hashtags):
            groups[tag].append(post.engagement)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), -mean(item[1]), item[0]))
    return [{"hashtag": tag, "uses": len(values), "avg_engagement": _r(mean(values))} for tag, values in ranked[:top]]


def profile_analytics(profile: Profile, posts: list[Post]) -> dict:
    return {
        "followers_count": profile.followers_count,
        "posts_analyzed": len(posts),
        "engagement_rate": engagement_rate(profile, posts),
        "avg_likes": _r(mean(post.like_count for post in posts)) if posts else 0.0,
        "avg_comments": _r(mean(post.comments_count for post in posts)) if posts else 0.0,
        "follower_growth": follower_growth(profile),
        "posting_frequency": posting_frequency(posts),
        "best_posting_hours": best_hours(posts),
        "best_weekdays": best_weekdays(posts),
        "top_hashtags": top_hashtags(posts),
    }
