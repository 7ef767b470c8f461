from rest_framework import status

from common.exceptions import DomainError


class PaymentsNotConfigured(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "payments_not_configured"
    detail = "Payments are not configured on this server."


class PaymentProviderFailed(DomainError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "payment_provider_error"
    detail = "The payment provider could not start a checkout. Nothing was charged; please try again."


class InvalidSignature(DomainError):
    code = "invalid_signature"
    detail = "The webhook signature is not valid."


class EventRejected(DomainError):
    """Processing a signed event failed: the receipt keeps the error, and Stripe retries."""

    code = "event_rejected"
    detail = "The event could not be applied; it is recorded with the error and will be retried."


class EventNotReady(DomainError):
    """An event that arrived before the one it depends on: refused so the provider delivers it again."""

    status_code = status.HTTP_409_CONFLICT
    code = "event_out_of_order"
    detail = "This event depends on one not processed yet; it will be retried."


class CardRequired(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "payment_method_required"
    detail = "Save a card first (POST auto-recharge/setup): auto-recharge pays with it."


class InvalidPackage(DomainError):
    code = "invalid_package"
    detail = "No such package for sale: pick one of GET packages with a price (to return to Free, cancel)."


class AlreadySubscribed(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "already_subscribed"
    detail = "This wallet already has a subscription: change its plan instead (POST subscription/change)."


class SubscriptionRequired(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "subscription_required"
    detail = "This wallet has no subscription to change: subscribe first (POST subscription/checkout)."


class SamePackage(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "same_package"
    detail = "The subscription is on this package already."


class ChangeInProgress(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "change_in_progress"
    detail = "An upgrade is waiting for its payment; try again when it is paid or has failed."
