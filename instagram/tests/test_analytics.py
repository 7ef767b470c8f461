from datetime import datetime, timezone

import pytest

from instagram.analytics import profile_analytics
from instagram.insights import ai_insights
from instagram.providers.base import Post, Profile
from instagram.providers.demo import DemoProvider


def post(i, likes, comments, when, caption="", media="IMAGE"):
    return Post(id=str(i), caption=caption, media_type=media, like_count=likes, comments_count=comments, timestamp=when)


PROFILE = Profile(
    username="hand_made", full_name="Hand Made", biography="", category=None, is_verified=False,
    followers_count=1000, follows_count=10, media_count=3,
    follower_history=(("2026-01", 800), ("2026-02", 900), ("2026-03", 1000)),
)
POSTS = [
    post(3, 60, 10, datetime(2026, 3, 15, 18, tzinfo=timezone.utc), "#a #b"),  # Sunday 18h: 70
    post(2, 30, 5, datetime(2026, 3, 8, 9, tzinfo=timezone.utc), "#a"),  # Sunday 9h: 35
    post(1, 20, 1, datetime(2026, 3, 1, 18, tzinfo=timezone.utc), "#c"),  # Sunday 18h: 21
]


def test_numbers_by_hand():
    stats = profile_analytics(PROFILE, POSTS)
    assert stats["engagement_rate"] == 4.2  # (70 + 35 + 21) / 3 / 1000 * 100
    assert (stats["avg_likes"], stats["avg_comments"]) == (36.67, 5.33)
    assert stats["follower_growth"]["absolute"] == 200 and stats["follower_growth"]["percent"] == 25.0
    assert stats["posting_frequency"] == {"posts_per_week": 1.0, "avg_days_between_posts": 7.0}
    assert stats["best_posting_hours"][0] == {"hour": 18, "avg_engagement": 45.5, "posts": 2}
    assert stats["best_weekdays"] == [{"weekday": "Sunday", "avg_engagement": 42.0, "posts": 3}]
    assert stats["top_hashtags"][0] == {"hashtag": "a", "uses": 2, "avg_engagement": 52.5}


def test_no_posts_and_no_followers_do_not_divide_by_zero():
    empty = Profile(username="e", full_name="", biography="", category=None, is_verified=False,
                    followers_count=0, follows_count=0, media_count=0)
    stats = profile_analytics(empty, [])
    assert stats["engagement_rate"] == 0.0 and stats["best_posting_hours"] == []
    assert ai_insights(empty, [])["metrics"]["posts_analyzed"] == 0


def test_insights_follow_the_numbers():
    insights = ai_insights(PROFILE, POSTS)
    titles = [item["title"] for item in insights["strengths"]]
    assert "Engaged audience" in titles  # 4.2% >= 4.0% benchmark for < 10k followers
    assert "Growing following" in titles
    infrequent = next(item for item in insights["weaknesses"] if item["title"] == "Infrequent posting")
    assert infrequent["evidence"] == {"posts_per_week": 1.0}
    assert "4.2% engagement" in insights["summary"]


@pytest.mark.parametrize("a, b", [("alice.travels", "dev_dan"), ("bob_fitness", "eco_emma")])
def test_different_profiles_get_different_insights(a, b):
    provider = DemoProvider()
    first = ai_insights(provider.get_profile(a), provider.get_posts(a))
    second = ai_insights(provider.get_profile(b), provider.get_posts(b))
    assert first["summary"] != second["summary"]
    assert first["metrics"] != second["metrics"]
