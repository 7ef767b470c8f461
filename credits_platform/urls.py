from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.auth import LogoutView, RegisterView, TokenRefresh, TokenView
from common.routing import route
from ops.health import health
from ops.metrics import metrics_view
from transactions.admin_views import spending_overview
from transactions.finance_api import finance_page
from webapp.views import CreditsPage

# The admin's app list stays on its index page: beside a changelist it took a quarter of a laptop's
# width, and the ledger's columns were cut off at 1400 px. Breadcrumbs lead back to it.
admin.site.enable_nav_sidebar = False

api_v1 = [
    route("health", health, "health"),
    route("auth/register", RegisterView.as_view(), "auth-register"),
    route("auth/token", TokenView.as_view(), "auth-token"),
    route("auth/token/refresh", TokenRefresh.as_view(), "auth-token-refresh"),
    route("auth/logout", LogoutView.as_view(), "auth-logout"),
    route("schema", SpectacularAPIView.as_view(), "schema"),
    route("docs", SpectacularSwaggerView.as_view(url_name="schema"), "docs"),
    path("api/credits/", include("wallets.urls")),
    path("api/credits/", include("instagram.credits_urls")),
    path("api/credits/", include("transactions.urls")),
    path("api/credits/", include("pricing.urls")),
    path("api/credits/", include("notifications.urls")),
    path("profile/", include("instagram.urls")),
    path("", include("payments.urls")),
]

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
    path("admin/credits-overview/", admin.site.admin_view(spending_overview), name="credits-overview"),
    path("admin/credits-finance/", admin.site.admin_view(finance_page), name="credits-finance"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("app/", CreditsPage.as_view(), name="credits-app"),
]

handler400 = "common.errors.bad_request"
handler404 = "common.errors.not_found"
handler500 = "common.errors.server_error"
