"""What the four premium views answer, for the OpenAPI schema (the views build plain dicts; these
describe them so Swagger and generated clients show real fields instead of a free-form object).
credits_platform/tests/test_fuzz.py checks real answers against them."""

from rest_framework import serializers


class FollowerPointSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    followers = serializers.IntegerField()


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField(allow_blank=True)
    biography = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_null=True, allow_blank=True)
    is_verified = serializers.BooleanField()
    followers_count = serializers.IntegerField()
    follows_count = serializers.IntegerField()
    media_count = serializers.IntegerField()
    profile_picture_url = serializers.CharField(allow_blank=True)
    follower_history = FollowerPointSerializer(many=True)


class FollowerGrowthSerializer(serializers.Serializer):
    absolute = serializers.IntegerField()
    percent = serializers.FloatField()
    period_months = serializers.IntegerField()
    monthly = FollowerPointSerializer(many=True)


class PostingFrequencySerializer(serializers.Serializer):
    posts_per_week = serializers.FloatField()
    avg_days_between_posts = serializers.FloatField()


class BestHourSerializer(serializers.Serializer):
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="UTC")
    avg_engagement = serializers.FloatField()
    posts = serializers.IntegerField()


class BestWeekdaySerializer(serializers.Serializer):
    weekday = serializers.CharField()
    avg_engagement = serializers.FloatField()
    posts = serializers.IntegerField()


class HashtagSerializer(serializers.Serializer):
    hashtag = serializers.CharField()
    uses = serializers.IntegerField()
    avg_engagement = serializers.FloatField()


class AnalyticsSerializer(serializers.Serializer):
    username = serializers.CharField()
    followers_count = serializers.IntegerField()
    posts_analyzed = serializers.IntegerField()
    engagement_rate = serializers.FloatField(help_text="Mean likes + comments per post, % of followers.")
    avg_likes = serializers.FloatField()
    avg_comments = serializers.FloatField()
    follower_growth = FollowerGrowthSerializer()
    posting_frequency = PostingFrequencySerializer()
    best_posting_hours = BestHourSerializer(many=True)
    best_weekdays = BestWeekdaySerializer(many=True)
    top_hashtags = HashtagSerializer(many=True)


class InsightItemSerializer(serializers.Serializer):
    title = serializers.CharField()
    detail = serializers.CharField()
    evidence = serializers.DictField(help_text="The figures the insight rests on (names vary by insight).")


class InsightMetricsSerializer(serializers.Serializer):
    engagement_rate = serializers.FloatField()
    benchmark_engagement_rate = serializers.FloatField()
    posts_per_week = serializers.FloatField()
    follower_growth_percent = serializers.FloatField()
    avg_caption_length = serializers.IntegerField()
    media_mix = serializers.DictField(child=serializers.IntegerField(), help_text="{media_type: posts}")
    posts_analyzed = serializers.IntegerField()


class InsightsSerializer(serializers.Serializer):
    username = serializers.CharField()
    summary = serializers.CharField()
    strengths = InsightItemSerializer(many=True)
    weaknesses = InsightItemSerializer(many=True)
    audience_recommendations = InsightItemSerializer(many=True)
    content_recommendations = InsightItemSerializer(many=True)
    metrics = InsightMetricsSerializer()


class PostSerializer(serializers.Serializer):
    id = serializers.CharField()
    caption = serializers.CharField(allow_blank=True)
    media_type = serializers.CharField()
    like_count = serializers.IntegerField()
    comments_count = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    permalink = serializers.CharField(allow_blank=True)
    hashtags = serializers.ListField(child=serializers.CharField())


class PostsPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PostSerializer(many=True)


class InsufficientCreditsSerializer(serializers.Serializer):
    """The 402 body. `required`, `available` and `needed` come with `insufficient_credits` only."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["insufficient_credits", "wallet_locked", "wallet_not_found"])
    required = serializers.IntegerField(required=False)
    available = serializers.IntegerField(required=False)
    needed = serializers.IntegerField(required=False)
