"""The project package: settings, URLs, Celery, and the shared pieces every app uses.

Shared pieces in ``wms/`` (STYLE.md "Shared pieces live in wms/"): an app never imports these
sideways from another app. Each module's docstring is its API.

* ``wms.errors``: ``DomainError(message, *, field=None, code=None)``, the one base of every
  refusal (``message``, ``field``, ``code``, ``message_dict``, ``as_validation_error()``);
  subclass it once per app (``inventory.exceptions.StockError``/``GoodsError``,
  ``warehouses.exceptions.WarehouseDomainError``).
* ``wms.forms``: ``DomainErrorFormMixin`` (``form.add_domain_error(error, field=None)``): a
  refusal onto its field, or onto the form.
* ``wms.pagination``: ``keyset_page(queryset, *, order=None, cursor=None, per_page=50,
  types=None, key_of=None, with_count=False) -> KeysetPage`` (``rows``, ``next_cursor``,
  ``previous_cursor``, ``is_first``, ``count``, ``extra``), ``keyset_rows(...)`` for exports,
  ``encode_cursor``/``decode_cursor``. No OFFSET, no ``Paginator``.
* ``wms.writers``: ``export_response(file_format, filename, headers, rows, *, title="")`` (a
  streamed xlsx/csv download), ``stream_xlsx``/``stream_csv``, ``write_xlsx``/``write_csv``
  (files), ``XLSX``, ``CSV``, ``FORMATS``, ``CONTENT_TYPES``, ``column_letter``.
* ``wms.spreadsheets``: ``export_value``/``escape_formula`` (formula-injection escaping),
  ``SafeXLSX``/``SafeCSV`` for admin exports.
* ``wms.choices``: ``@badges(value=colour, ...)`` on a ``TextChoices`` class, ``ActiveState``,
  ``badge_colour``, ``BADGE_COLOURS``; templates show a value with
  ``{% load wms_tags %}{% status_badge obj "field" %}``.
* ``wms.http``: ``permission(*perms)``, ``respond(request, template, context, partial=...)``,
  ``parse_id``.
* ``wms.admin``: the read-only admin base for the ledger and audit tables.
* Background work (helper ``worker``; see each docstring): ``wms.locks`` (``advisory_key``,
  ``advisory_lock``, ``advisory_xact_lock``, ``advisory_lock_is_free``), ``wms.jobs``
  (``JobProgress``, ``job_claim``, ``JobKind``, ``register_job_kind``, ``jobs_sweep``),
  ``wms.outbox`` (``enqueue_on_commit(task_name, *args)``, ``task_by_name``, ``outbox_drain``),
  ``wms.celery`` (``app``, ``TASK_RETRY``, ``RETRY_BACKOFF_MAX``, ``MAX_RETRIES``,
  ``VISIBILITY_TIMEOUT``), ``wms.backoff`` (``delay(attempt, *, base, cap, retry_after=None,
  jitter="full"|"equal"|"none")``, ``retry_after_seconds(header)``) for every retry loop that
  is not a Celery task retry.
* ``wms.migration_ops.RunPostgreSQL(sql, reverse_sql)``: raw SQL in a migration that only
  PostgreSQL runs (append-only triggers, the stock outbox trigger); a no-op on SQLite.
* Templates: ``partials/form_fields.html`` (a whole form: ``{% include ... with form=f %}``),
  ``partials/form_field.html`` (one field in a custom layout), ``partials/pagination.html`` (a
  ``KeysetPage``: ``with target="results"``), ``partials/status_badge.html`` (via the tag).
"""

from wms.celery import app as celery_app

__all__ = ["celery_app"]
