"""A policy looks back, and lets an order wait, at most 3,650 days: a longer span is a typo that
put the figures' dates out of range (every grab screen and close under the policy failed).
Policies already stored beyond it are brought down to it."""

import django.core.validators
from django.db import migrations, models

MAX_POLICY_DAYS = 3650


def clamp(apps, schema_editor):
    Policy = apps.get_model("allocation", "Policy")
    Policy.objects.filter(lookback_days__gt=MAX_POLICY_DAYS).update(lookback_days=MAX_POLICY_DAYS)
    Policy.objects.filter(max_unreceived_days__gt=MAX_POLICY_DAYS).update(
        max_unreceived_days=MAX_POLICY_DAYS
    )


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0006_store_return_client_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="policy",
            name="lookback_days",
            field=models.PositiveIntegerField(
                default=28,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(3650),
                ],
                verbose_name="lookback days",
            ),
        ),
        migrations.AlterField(
            model_name="policy",
            name="max_unreceived_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="empty: no limit",
                null=True,
                validators=[django.core.validators.MaxValueValidator(3650)],
                verbose_name="no unreceived order older than (days)",
            ),
        ),
        migrations.RunPython(clamp, migrations.RunPython.noop),
    ]
