from django.utils.translation import gettext_lazy as _


class ChannelError(Exception):
    """A refusal a channel operator understands; nothing was changed."""

    default = _("The request was refused.")

    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(str(message or self.default))
        self.message = message or self.default
        self.field = field


class NotAllowed(ChannelError):
    default = _("You are not allowed to do this.")


class StaleBindings(ChannelError):
    default = _("The bindings changed since this request was made; request the change again.")
