from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import BulkTier, Package, PricingRule, TopUpTier


class BulkTierFormSet(forms.BaseInlineFormSet):
    """Tiers must grow strictly: a larger quantity always earns a larger discount."""

    def clean(self):
        super().clean()
        tiers = sorted(
            (form.cleaned_data["min_quantity"], form.cleaned_data["discount_percent"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and {"min_quantity", "discount_percent"} <= set(form.cleaned_data)  # others show field errors
        )
        quantities = [q for q, _ in tiers]
        if len(set(quantities)) != len(quantities):
            raise ValidationError("Two tiers have the same minimum quantity.")
        discounts = [d for _, d in tiers]
        if any(later <= earlier for earlier, later in zip(discounts, discounts[1:])):
            raise ValidationError("Discounts must increase strictly with the minimum quantity.")


class BulkTierInline(admin.TabularInline):
    model = BulkTier
    formset = BulkTierFormSet
    extra = 1


@admin.register(PricingRule)
class PricingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "action_type", "credits_per_action", "free_allowance_per_month", "access_window_hours", "is_active", "updated_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["action_type", "description"]
    inlines = [BulkTierInline]


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    list_display = ["name", "monthly_credits", "rollover_cap", "price_cents", "currency", "is_default"]


@admin.register(TopUpTier)
class TopUpTierAdmin(admin.ModelAdmin):
    list_display = ["min_credits", "unit_price_cents", "currency"]
