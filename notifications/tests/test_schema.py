"""Every event's payload is an OpenAPI component, and what is sent matches it."""

import jsonschema
import pytest

from outbox.events import EventType
from outbox.models import OutboxEvent
from wallets.services import credits_top_up, wallet_set_low_balance_threshold

pytestmark = pytest.mark.django_db


def as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's type list (jsonschema ignores `nullable`)."""
    if isinstance(node, dict):
        node = {k: as_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False):
            node["type"] = [node["type"], "null"]
        return node
    return [as_json_schema(v) for v in node] if isinstance(node, list) else node


@pytest.fixture
def schema(client):
    return client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()


def test_each_event_type_is_a_component_and_webhook_event_is_one_of_them(schema):
    components = schema["components"]["schemas"]
    assert set(components["WebhookEvent"]["discriminator"]["mapping"]) == set(EventType.values)
    low = components["BalanceLowEvent"]
    assert low["properties"]["type"]["enum"] == ["balance.low"]
    assert {"available", "threshold", "username", "wallet_id"} <= set(low["properties"]["data"]["required"])


def test_payloads_written_match_their_components(schema, make_user):
    user = make_user(balance=50)
    wallet_set_low_balance_threshold(user_id=user.pk, threshold=80)
    credits_top_up(user_id=user.pk, amount=100, idempotency_key="k", reference="top_up:1")
    components = schema["components"]["schemas"]
    events = list(OutboxEvent.objects.filter(wallet_id=user.pk))
    assert [e.event_type for e in events] == ["balance.low", "balance.recovered", "top_up.completed"]
    for event in events:
        name = next(n for n, ref in components["WebhookEvent"]["discriminator"]["mapping"].items() if n == event.event_type)
        component = components["WebhookEvent"]["discriminator"]["mapping"][name].rsplit("/", 1)[1]
        body = {**event.payload(), "timestamp": event.created_at.isoformat()}
        jsonschema.validate(body, as_json_schema(components[component]))
