"""Rows that belong to one wallet, spread by the wallet's key on Citus (docs/scaling.md).

A model's `save()` of an existing row updates it `WHERE id = ...` and sets every column, the
wallet's key included. On Citus that UPDATE would look for the row on every shard, and setting the
distribution column is refused outright ("modifying the partition value of rows is not allowed").
`WalletRow` makes the UPDATE name its wallet and leave the wallet's key alone: a row never changes
wallets."""

from django.db import models


class WalletRow(models.Model):
    """Base of the models whose rows are a wallet's; `wallet_key` is the column of the wallet's key."""

    wallet_key = "wallet_id"

    class Meta:
        abstract = True

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        key = self.wallet_key
        values = [value for value in values if value[0].attname != key]
        return super()._do_update(base_qs.filter(**{key: getattr(self, key)}), using, pk_val, values, update_fields,
                                  forced_update)
