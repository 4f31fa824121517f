"""Re-encrypt every shop's credentials under the newest key of ``WMS_FIELD_KEY`` (put the new
key first, run this, then drop the old key). Prints counts only, never a credential."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from channels_sync.crypto import rotate


class Command(BaseCommand):
    help = "Re-encrypt shop credentials under the first key of WMS_FIELD_KEY."

    def handle(self, *args, **options) -> None:
        done = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id, credentials FROM channels_sync_shop FOR UPDATE")
            for pk, token in cursor.fetchall():
                if token:
                    cursor.execute(
                        "UPDATE channels_sync_shop SET credentials = %s WHERE id = %s",
                        [rotate(token), pk],
                    )
                    done += 1
        self.stdout.write(f"credentials re-encrypted: {done} shops")
