from common.routing import route

from . import finance_api

# The wallet's own history pages (transactions, search, export, usage, analytics) are routed by
# wallets.urls: they read the wallet's row counter as well as the ledger.
urlpatterns = [
    route("admin/finance", finance_api.FinanceView.as_view(), "staff-finance"),
]
