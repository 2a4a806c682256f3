from django import forms

from notifications.models import EmailPreference
from portal import roles


class EmailPreferenceForm(forms.ModelForm):
    """The emails a user opts in to: reps their orders' outcomes, managers the weekly digest."""

    class Meta:
        model = EmailPreference
        fields = ["order_outcomes", "weekly_digest"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not (roles.is_rep(user) or user.is_superuser):
            del self.fields["order_outcomes"]
        if not (roles.is_manager(user) or user.is_superuser):
            del self.fields["weekly_digest"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.user.email and any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError(
                "Your account has no email address, so no email can reach you: "
                "ask ops to add one, then opt in again."
            )
        return cleaned
