"""``python manage.py wms_reconcile``: recompute every balance from the ledger's movements.

Prints one line per drifting balance (stored versus recomputed on hand / frozen / reserved) and
exits with status 1 when there is any drift, 0 when the balances agree with the ledger. Read
only: a drift is a bug to investigate, corrected (if at all) by a new movement, never by editing
balances.
"""

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors.stock import balance_drift


class Command(BaseCommand):
    help = "Recompute stock balances from movements; print drift per row; exit 1 on any drift."

    def handle(self, *args, **options) -> None:
        drifts = balance_drift()
        for drift in drifts:
            if drift.stored == (-1, -1, -1):
                self.stdout.write(
                    f"balance {drift.balance_id} {drift.goods_sku} @ {drift.bin_code}"
                    f"{' / ' + drift.batch_no if drift.batch_no else ''}: "
                    f"{drift.from_movements[0]} movements disagree with the balance's "
                    "goods, bin, batch or warehouse"
                )
                continue
            stored, computed = drift.stored, drift.from_movements
            self.stdout.write(
                f"balance {drift.balance_id} {drift.goods_sku} @ {drift.bin_code}"
                f"{' / ' + drift.batch_no if drift.batch_no else ''}: "
                f"stored on_hand={stored[0]} frozen={stored[1]} reserved={stored[2]}; "
                f"movements on_hand={computed[0]} frozen={computed[1]} reserved={computed[2]}; "
                f"drift {drift.difference[0]:+d}/{drift.difference[1]:+d}/{drift.difference[2]:+d}"
            )
        if drifts:
            raise CommandError(f"{len(drifts)} balance(s) drift from the ledger.", returncode=1)
        self.stdout.write("0 drift: every balance agrees with the ledger.")
