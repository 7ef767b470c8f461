from common.routing import route

from . import views

USERNAME = r"(?P<username>[^/]+)"

urlpatterns = [
    route(USERNAME, views.ProfileView.as_view(), "profile"),
    route(rf"{USERNAME}/analytics", views.AnalyticsView.as_view(), "profile-analytics"),
    route(rf"{USERNAME}/ai-insights", views.InsightsView.as_view(), "profile-ai-insights"),
    route(rf"{USERNAME}/posts", views.PostsView.as_view(), "profile-posts"),
]
