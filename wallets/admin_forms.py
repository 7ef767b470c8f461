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
