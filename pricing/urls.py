from common.routing import route

from . import views

urlpatterns = [
    route("pricing", views.PricingListView.as_view(), "pricing"),
    route("pricing/calculate", views.PricingCalculateView.as_view(), "pricing-calculate"),
    route(r"pricing/(?P<action_type>[^/]+)", views.PricingDetailView.as_view(), "pricing-detail"),
    route("top-up/estimate", views.TopUpEstimateView.as_view(), "top-up-estimate"),
]
