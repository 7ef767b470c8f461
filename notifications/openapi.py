"""Every event's payload as an OpenAPI component (`BalanceLowEvent`, ...), the same body whether it
arrives as a webhook (signed per Standard Webhooks) or as an in-app notification's `data`.

Added by a schema post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]), with a
`WebhookEvent` component that is one of them, discriminated by `type`."""

from outbox.events import EventType

INT, STR = {"type": "integer"}, {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
OWNER = {"wallet_id": {**INT, "description": "The wallet's id (= the user's id)."}, "username": STR}
BALANCES = {
    "available": {**INT, "description": "Balance less credits held by requests in flight."},
    "current_balance": INT,
}
THRESHOLD = {"threshold": {**INT, "description": "The wallet's low_balance_threshold."},
             "ledger_entry_id": {**INT, "nullable": True, "description": "The ledger row that caused it (null when a threshold change fired it)."}}
PLAN = {
    "package": {**STR, "description": "The package the wallet has now."},
    "status": {**STR, "description": "incomplete, active, past_due, canceled or unpaid."},
    "current_period_end": NULLABLE_TIME,
    "cancel_at_period_end": {"type": "boolean"},
    "pending_package": {**STR, "nullable": True, "description": "A downgrade waiting for the period's end."},
    "credits": {**INT, "description": "Credits this event granted (0: none)."},
}
GRANT = {"grant_id": INT, "source": STR, "credits": INT, "expires_at": NULLABLE_TIME, "reason": STR}

DATA = {
    EventType.BALANCE_LOW: {**OWNER, **BALANCES, **THRESHOLD},
    EventType.BALANCE_DEPLETED: {**OWNER, **BALANCES, **THRESHOLD},
    EventType.BALANCE_RECOVERED: {**OWNER, **BALANCES, **THRESHOLD},
    EventType.CREDITS_GRANTED: {**OWNER, **GRANT, "current_balance": INT},
    EventType.CREDITS_EXPIRING: {**OWNER, **GRANT},
    EventType.CREDITS_EXPIRED: {**OWNER, **BALANCES, "grant_id": INT, "source": STR, "credits": INT,
                                "expired_at": NULLABLE_TIME},
    EventType.TOP_UP_COMPLETED: {**OWNER, **BALANCES, "credits": INT, "reference": STR, "ledger_entry_id": INT,
                                 "grant_id": INT},
    EventType.TOP_UP_REFUNDED: {**OWNER, **BALANCES, "credits": INT, "reference": STR, "ledger_entry_id": INT},
    EventType.WALLET_LOCKED: {**OWNER, **BALANCES},
    EventType.WALLET_UNLOCKED: {**OWNER, **BALANCES},
    EventType.AUTO_RECHARGE_SUCCEEDED: {**OWNER, **BALANCES, "credits": INT},
    EventType.AUTO_RECHARGE_FAILED: {**OWNER, **BALANCES, "reason": STR},
    **{kind: {**OWNER, **PLAN} for kind in (
        EventType.SUBSCRIPTION_ACTIVATED, EventType.SUBSCRIPTION_RENEWED, EventType.SUBSCRIPTION_CHANGED,
        EventType.SUBSCRIPTION_PAST_DUE, EventType.SUBSCRIPTION_CANCELED)},
}


def component_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_")) + "Event"


EVENT_COMPONENT_NAMES = [component_name(t) for t in EventType.values]


def event_schema(event_type: str) -> dict:
    return {
        "type": "object",
        "description": f"`{event_type}`: {EventType(event_type).label}. Headers: webhook-id (stable across "
        "retries: de-duplicate on it), webhook-timestamp, webhook-signature.",
        "properties": {
            "type": {"type": "string", "enum": [event_type]},
            "timestamp": TIME,
            "data": {"type": "object", "properties": DATA[event_type], "required": list(DATA[event_type])},
        },
        "required": ["type", "timestamp", "data"],
    }


def add_event_components(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for event_type in EventType.values:
        schemas[component_name(event_type)] = event_schema(event_type)
    for path, method in (("/api/v1/api/credits/alerts/", "patch"), ("/api/v1/api/credits/notifications/read/", "post")):
        body = result.get("paths", {}).get(path, {}).get(method, {}).get("requestBody")
        if body is not None:
            body["required"] = True  # a JSON object, {} included (see notifications.api._require_body)
    schemas["WebhookEvent"] = {
        "oneOf": [{"$ref": f"#/components/schemas/{component_name(t)}"} for t in EventType.values],
        "discriminator": {"propertyName": "type", "mapping": {
            t: f"#/components/schemas/{component_name(t)}" for t in EventType.values}},
    }
    return result
