from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's user. Roles are Django groups (see wms.roles); store scoping hangs off users."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
