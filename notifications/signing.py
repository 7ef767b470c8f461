"""Standard Webhooks signatures (the `standardwebhooks` package signs; receivers verify with it)."""

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def secret_generate() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signature_header(secrets_in_use: list[str], *, msg_id: str, timestamp: datetime, body: str) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret in use (two while a rotation settles)."""
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets_in_use)
