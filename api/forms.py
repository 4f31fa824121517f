from django import forms
from django.utils.translation import gettext_lazy as _

from api.webhooks import events


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=80,
        help_text=_("Which system will use it, e.g. “ERP production”."),
    )


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = events.event_choices()

    def add_domain_error(self, error) -> None:
        field = getattr(error, "field", None)
        self.add_error(field if field in self.fields else None, str(error))
