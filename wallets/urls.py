from common.routing import route

from . import grants_api, history_api, team_api, views

urlpatterns = [
    route("balance", views.BalanceView.as_view(), "balance"),
    route("wallet/summary", views.WalletSummaryView.as_view(), "wallet-summary"),
    route("wallet/create", views.WalletCreateView.as_view(), "wallet-create"),
    route("pricing/calculate", views.PricingCalculateView.as_view(), "pricing-calculate"),
    route("allowances", views.AllowancesView.as_view(), "allowances"),
    route("system/stats", views.SystemStatsView.as_view(), "system-stats"),
    route("packages", views.PackageListView.as_view(), "packages"),
    route("grants", grants_api.GrantListView.as_view(), "grants"),
    route("admin/grants", grants_api.StaffGrantView.as_view(), "staff-grants"),
    route("transactions", history_api.TransactionListView.as_view(), "transactions"),
    route(r"transactions/export\.csv", history_api.TransactionExportView.as_view(), "transactions-export"),
    route("transactions/search", history_api.TransactionSearchView.as_view(), "transactions-search"),
    route("usage/monthly", history_api.MonthlyUsageView.as_view(), "usage-monthly"),
    route("team", team_api.TeamView.as_view(), "team"),
    route("team/members", team_api.TeamMembersView.as_view(), "team-members"),
    route(r"team/members/(?P<username>[\w.@+-]+)", team_api.TeamMemberView.as_view(), "team-member"),
    route("analytics/spending", history_api.SpendingAnalyticsView.as_view(), "analytics-spending"),
]
