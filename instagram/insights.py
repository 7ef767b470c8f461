"""AI insights: rules over the computed analytics, each finding carrying the numbers behind it."""

from collections import Counter
from statistics import mean

from .analytics import profile_analytics
from .providers.base import Post, Profile

# Typical engagement rate (%) by audience size: smaller accounts engage more.
BENCHMARKS = [(10_000, 4.0), (100_000, 2.5), (1_000_000, 1.5), (float("inf"), 1.0)]
IDEAL_POSTS_PER_WEEK = (2.0, 5.0)


def benchmark_for(followers: int) -> float:
    return next(rate for limit, rate in BENCHMARKS if followers < limit)


def _item(title: str, detail: str, **evidence) -> dict:
    return {"title": title, "detail": detail, "evidence": evidence}


def ai_insights(profile: Profile, posts: list[Post]) -> dict:
    stats = profile_analytics(profile, posts)
    rate, benchmark = stats["engagement_rate"], benchmark_for(profile.followers_count)
    per_week = stats["posting_frequency"]["posts_per_week"]
    growth = stats["follower_growth"]["percent"]
    caption_length = round(mean(len(post.caption) for post in posts)) if posts else 0
    media_mix = dict(Counter(post.media_type for post in posts))
    strengths, weaknesses, audience, content = [], [], [], []

    if rate >= benchmark:
        strengths.append(_item(
            "Engaged audience",
            f"Engagement of {rate}% beats the {benchmark}% typical for accounts of this size.",
            engagement_rate=rate, benchmark=benchmark,
        ))
    else:
        weaknesses.append(_item(
            "Engagement below peers",
            f"Engagement of {rate}% trails the {benchmark}% typical for accounts of this size.",
            engagement_rate=rate, benchmark=benchmark,
        ))
    if growth > 0:
        strengths.append(_item(
            "Growing following",
            f"Followers grew {growth}% over {stats['follower_growth']['period_months']} months.",
            growth_percent=growth,
        ))
    elif stats["follower_growth"]["period_months"]:
        weaknesses.append(_item(
            "Shrinking following",
            f"Followers changed {growth}% over {stats['follower_growth']['period_months']} months.",
            growth_percent=growth,
        ))
    low, high = IDEAL_POSTS_PER_WEEK
    if per_week < low:
        weaknesses.append(_item(
            "Infrequent posting",
            f"{per_week} posts a week; accounts that post {low:g}-{high:g} times a week keep more reach.",
            posts_per_week=per_week,
        ))
        content.append(_item("Post more often", f"Move from {per_week} to at least {low:g} posts a week.", posts_per_week=per_week))
    elif per_week > high:
        content.append(_item(
            "Trade volume for quality",
            f"{per_week} posts a week is above {high:g}; fewer, stronger posts may lift engagement per post.",
            posts_per_week=per_week,
        ))
    else:
        strengths.append(_item("Steady rhythm", f"{per_week} posts a week is in the healthy range.", posts_per_week=per_week))

    if stats["best_posting_hours"]:
        best = stats["best_posting_hours"][0]
        audience.append(_item(
            "Post when the audience is there",
            f"Posts at {best['hour']:02d}:00 UTC average {best['avg_engagement']} interactions.",
            hour=best["hour"], avg_engagement=best["avg_engagement"],
        ))
    if stats["best_weekdays"]:
        day = stats["best_weekdays"][0]
        audience.append(_item(
            "Best day",
            f"{day['weekday']} posts average {day['avg_engagement']} interactions.",
            weekday=day["weekday"], avg_engagement=day["avg_engagement"],
        ))
    if stats["top_hashtags"]:
        tags = stats["top_hashtags"][:3]
        content.append(_item(
            "Lean on proven hashtags",
            "Most used: " + ", ".join(f"#{tag['hashtag']} ({tag['uses']} posts)" for tag in tags) + ".",
            hashtags=[tag["hashtag"] for tag in tags],
        ))
    if posts and caption_length < 40:
        content.append(_item(
            "Say more in captions",
            f"Captions average {caption_length} characters; a line of context invites comments.",
            avg_caption_length=caption_length,
        ))
    if posts and "VIDEO" not in media_mix:
        content.append(_item("Try video", "None of the recent posts is a video.", media_mix=media_mix))

    summary = (
        f"@{profile.username} has {profile.followers_count:,} followers, {rate}% engagement "
        f"({'above' if rate >= benchmark else 'below'} the {benchmark}% benchmark) and posts {per_week} times a week."
    )
    return {
        "summary": summary,
        "strengths": strengths,
        "weaknesses": weaknesses,
        "audience_recommendations": audience,
        "content_recommendations": content,
        "metrics": {
            "engagement_rate": rate,
            "benchmark_engagement_rate": benchmark,
            "posts_per_week": per_week,
            "follower_growth_percent": growth,
            "avg_caption_length": caption_length,
            "media_mix": media_mix,
            "posts_analyzed": len(posts),
        },
    }
