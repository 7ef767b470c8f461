from common.routing import route

from . import views

# POST pricing/calculate (what it costs this user now) is wallets': its URLs are included first,
# so `calculate` is never taken for an action type here.
urlpatterns = [
    route("pricing", views.PricingListView.as_view(), "pricing"),
    route(r"pricing/(?P<action_type>[^/]+)", views.PricingDetailView.as_view(), "pricing-detail"),
    route("top-up/estimate", views.TopUpEstimateView.as_view(), "top-up-estimate"),
]
