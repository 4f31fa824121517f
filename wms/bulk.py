"""Set-based writes of many model rows in one statement.

``bulk_update_rows(model, rows, fields)``: write ``fields`` of ``rows`` (instances with a primary
key, typically locked by the caller). On PostgreSQL one ``UPDATE ... FROM unnest(...)`` whatever
the number of rows: one array per column, cast to the column's own type. Django's
``bulk_update`` builds a ``CASE WHEN pk = ...`` per row and field instead, so its statement and
its evaluation grow with rows x fields (a 250-row page of 9 fields took longer than 250 single
UPDATEs). Elsewhere (SQLite) it is ``bulk_update``. The ledger's balances have their own
statement (``inventory.ledger.writes.write_balances``): it runs inside the posting's
data-modifying CTEs.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def bulk_update_rows(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]
):
    """Write ``fields`` (concrete, non-primary-key fields of ``model``) of ``rows``, in primary
    key order. Runs in the caller's transaction; fires no signals, calls no ``save()`` (an
    ``auto_now`` field is written as it is on the instance: set it first)."""
    if not rows or not fields:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, list(fields), batch_size=500)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = quote(meta.pk.column)
    rows = sorted(rows, key=lambda row: row.pk)
    names = ", ".join(quote(field.column) for field in columns)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [meta.pk, *columns])
    sets = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    params = [[row.pk for row in rows]] + [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows]
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({pk}, {names}) "  # noqa: S608
            f"WHERE {table}.{pk} = v.{pk}",
            params,
        )
