"""The real URLs plus one ungated twin of a gated view, to measure what the gate costs."""

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated

from common.routing import route
from instagram.views import PostsView


class UngatedPostsView(PostsView):
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def get(self, request, username):  # the same work as PostsView.get, without the decorator
        return self.posts_page(request, username)


urlpatterns = [
    route(r"bench/ungated/(?P<username>[^/]+)/posts", UngatedPostsView.as_view(), "bench-ungated-posts"),
    path("", include("credits_platform.urls")),
]
