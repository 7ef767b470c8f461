from common.routing import route

from . import grants_api, views

urlpatterns = [
    route("balance", views.BalanceView.as_view(), "balance"),
    route("wallet/summary", views.WalletSummaryView.as_view(), "wallet-summary"),
    route("wallet/create", views.WalletCreateView.as_view(), "wallet-create"),
    route("dashboard", views.DashboardView.as_view(), "dashboard"),
    route(r"can-perform/(?P<action_type>[^/]+)", views.CanPerformView.as_view(), "can-perform"),
    route("pricing/calculate", views.PricingCalculateView.as_view(), "pricing-calculate"),
    route("allowances", views.AllowancesView.as_view(), "allowances"),
    route("system/stats", views.SystemStatsView.as_view(), "system-stats"),
    route("grants", grants_api.GrantListView.as_view(), "grants"),
    route("admin/grants", grants_api.StaffGrantView.as_view(), "staff-grants"),
]
