"""Grab windows keep the window form's token (client_key): the same form sent twice (a double
click) makes one window. Existing windows keep an empty key, which the constraint ignores."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0007_policy_day_bounds"),
    ]

    operations = [
        migrations.AddField(
            model_name="grabwindow",
            name="client_key",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="grabwindow",
            constraint=models.UniqueConstraint(
                condition=models.Q(("client_key", ""), _negated=True),
                fields=("client_key",),
                name="allocation_window_client_key_uniq",
            ),
        ),
    ]
