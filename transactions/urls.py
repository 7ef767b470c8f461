from common.routing import route

from . import finance_api, views

urlpatterns = [
    route("transactions", views.TransactionListView.as_view(), "transactions"),
    route(r"transactions/export\.csv", views.TransactionExportView.as_view(), "transactions-export"),
    route("transactions/search", views.TransactionSearchView.as_view(), "transactions-search"),
    route("usage/monthly", views.MonthlyUsageView.as_view(), "usage-monthly"),
    route("analytics/spending", views.SpendingAnalyticsView.as_view(), "analytics-spending"),
    route("admin/finance", finance_api.FinanceView.as_view(), "staff-finance"),
]
