from django.db import migrations

from wms.roles import sync_roles


def forwards(apps, schema_editor):
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("channels_sync", "0004_orders")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
