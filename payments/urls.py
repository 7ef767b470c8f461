"""Paths relative to /api/v1/: the buyer's under api/credits/ (the frontend's prefix), the
provider's webhook under payments/."""

from common.routing import route

from . import views

urlpatterns = [
    route("api/credits/top-up/checkout", views.CheckoutView.as_view(), "top-up-checkout"),
    route("api/credits/top-up/history", views.TopUpHistoryView.as_view(), "top-up-history"),
    route("api/credits/auto-recharge", views.AutoRechargeView.as_view(), "auto-recharge"),
    route("api/credits/auto-recharge/setup", views.AutoRechargeSetupView.as_view(), "auto-recharge-setup"),
    route("api/credits/subscription", views.SubscriptionView.as_view(), "subscription"),
    route("api/credits/subscription/checkout", views.SubscriptionCheckoutView.as_view(), "subscription-checkout"),
    route("api/credits/subscription/change", views.SubscriptionChangeView.as_view(), "subscription-change"),
    route("api/credits/subscription/cancel", views.SubscriptionCancelView.as_view(), "subscription-cancel"),
    route("api/credits/subscription/resume", views.SubscriptionResumeView.as_view(), "subscription-resume"),
    route("api/credits/subscription/portal", views.SubscriptionPortalView.as_view(), "subscription-portal"),
    route("payments/stripe/webhook", views.StripeWebhookView.as_view(), "stripe-webhook"),
]
