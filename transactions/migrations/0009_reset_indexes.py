"""Fewer indexes and no allocation constraints for the monthly reset's set-based writes: every row it
writes maintained nine ledger indexes and checked three foreign keys per allocation (see the models)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('transactions', '0008_payments_moved_out'),
        ('wallets', '0006_fewer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ledgerallocation',
            name='allocation_wallet_idx',
        ),
        migrations.RemoveIndex(
            model_name='ledgerentry',
            name='ledger_wallet_action_idx',
        ),
        migrations.AlterField(
            model_name='ledgerallocation',
            name='entry',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='transactions.ledgerentry'),
        ),
        migrations.AlterField(
            model_name='ledgerallocation',
            name='grant',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='wallets.grant'),
        ),
        migrations.AlterField(
            model_name='ledgerallocation',
            name='wallet',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='wallets.wallet'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='action_type',
            field=models.SlugField(blank=True, db_index=False, max_length=64),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='wallet',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='ledger', to='wallets.wallet'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('action_type', ''), _negated=True), fields=['wallet', 'action_type', '-created_at'], name='ledger_wallet_action_idx'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('action_type', ''), _negated=True), fields=['action_type', '-created_at'], name='ledger_action_idx'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='ledger_actor_idx'),
        ),
    ]
