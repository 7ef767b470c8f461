"""The wallet pages this app composes, under api/credits/ beside wallets.urls."""

from common.routing import route

from . import wallet_pages

urlpatterns = [
    route("dashboard", wallet_pages.DashboardView.as_view(), "dashboard"),
    route(r"can-perform/(?P<action_type>[^/]+)", wallet_pages.CanPerformView.as_view(), "can-perform"),
]
