from django import forms


class AdjustCreditsForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Credits to add (positive) or remove (negative)."
    )
    reason = forms.CharField(max_length=255, help_text="Recorded on the ledger row.")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The amount cannot be zero.")
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


class GrantCreditsForm(forms.Form):
    """A promo, trial or compensation grant to the selected wallets, or to every wallet of a package."""

    amount = forms.IntegerField(min_value=1, max_value=10_000_000)
    source = forms.ChoiceField(choices=[("promo", "Promotion"), ("trial", "Trial"), ("compensation", "Compensation")])
    reason = forms.CharField(max_length=255, help_text="Shown to the user and on the ledger row.")
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False, help_text="Empty: never expires.")
    priority = forms.IntegerField(min_value=-1000, max_value=1000, required=False,
                                  help_text="Lower spends first; empty: the source's default.")
    package = forms.ModelChoiceField(queryset=None, required=False,
                                     help_text="Every wallet of this package instead of the selected ones.")

    def __init__(self, *args, **kwargs):
        from pricing.models import Package

        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = Package.objects.order_by("name")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason
