"""Store returns keep the return form's token (client_key): the same form sent twice (a double
tap) files one return. Existing returns keep an empty key, which the constraint ignores."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("allocation", "0005_grab_request_redundant_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="storereturn",
            name="client_key",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="storereturn",
            constraint=models.UniqueConstraint(
                condition=models.Q(("client_key", ""), _negated=True),
                fields=("order", "client_key"),
                name="allocation_return_client_key_uniq",
            ),
        ),
    ]
