"""Paid (or free) access to one Instagram resource, so repeats inside the access window cost nothing."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class AccessQuerySet(models.QuerySet):
    def current(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class Access(models.Model):
    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.CASCADE, related_name="accesses")
    action_type = models.SlugField(max_length=64)
    username = models.CharField(max_length=30)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the access never expires.")
    created_at = models.DateTimeField(auto_now_add=True)
    renewed_at = models.DateTimeField(default=timezone.now)

    objects = AccessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "accesses"
        constraints = [
            models.UniqueConstraint(fields=["wallet", "action_type", "username"], name="one_access_per_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.wallet.user.username}: {self.action_type} of @{self.username}"
