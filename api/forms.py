from django import forms
from django.utils.translation import gettext_lazy as _

from api.webhooks import events
from wms.forms import DomainErrorFormMixin


class TokenForm(DomainErrorFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=80,
        help_text=_("Which system will use it, e.g. “ERP production”."),
    )


class SubscriptionForm(DomainErrorFormMixin, forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = events.event_choices()
