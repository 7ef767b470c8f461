"""The one table of shared code: requests made idempotent by their `Idempotency-Key`."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotentRequest(models.Model):
    """The first request sent with a key, per user: what it was (to refuse the key on another
    request) and, once answered, its answer (to replay to a retry)."""

    user_id = models.BigIntegerField()  # keys are the sender's own; no foreign key: common knows no app
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=255, help_text="Method and path, e.g. POST /api/v1/api/credits/admin/grants.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the body, as canonical JSON.")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="Null while the first request runs.")
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="idempotent_request_user_key")]

    def __str__(self):
        return f"{self.scope} [{self.key}]"
