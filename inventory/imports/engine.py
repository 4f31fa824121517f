"""The import engine: django-import-export resources, fed in batches instead of row by row.

``run_import(resource, sheet, dry_run=...)`` maps the sheet's headers to the resource's fields,
streams the rows in batches of ``resource.batch_size`` (2,000), and for each batch calls
``resource.process_batch`` (clean every cell with the fields' widgets, look the existing rows up
with one query, validate, classify new / updated / unchanged) and, when committing and no error
has been found so far, ``resource.write_batch``. Everything runs inside one transaction that is
rolled back for a dry run or as soon as the report holds an error: one bad row, nothing written.

The resource classes subclass import-export's ``Resource`` / ``ModelResource``, so the admin's
import (``import_data``) runs through this same engine (see ``SheetResource.import_data_inner``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DatabaseError, IntegrityError, models, router, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import resources
from import_export.results import Error, InvalidRow, Result, RowResult

from inventory.imports.errors import ImportRefused, RowError
from inventory.imports.widgets import NumberWidget, cell_text, export_value
from wms.writers import column_letter

logger = logging.getLogger(__name__)

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
SKIPPED = "skipped"

MAX_REPORTED_ERRORS = 1000
SAMPLE_ROWS = 20

Progress = Callable[[int, int], None]


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    text = text.replace("*", " ")
    return " ".join(text.split())


def _without_parentheses(text: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", text).split())


@dataclass
class ImportReport:
    """What an import found or did; stored as JSON on ``ImportJob`` (``as_dict``/``from_dict``)."""

    resource: str
    dry_run: bool
    total_rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    invalid_rows: int = 0
    refused: str = ""
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    written: bool = False
    #: Names the sheet uses that do not exist yet ({"brands": [...], "categories": [...]}),
    #: which the user may have created with the import; ``created``: those this run created.
    missing: dict = field(default_factory=dict)
    created: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused and self.error_count == 0

    @property
    def valid_rows(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def as_dict(self) -> dict:
        return {
            "resource": self.resource,
            "dry_run": self.dry_run,
            "total_rows": self.total_rows,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": [error.as_dict() for error in self.errors],
            "error_count": self.error_count,
            "invalid_rows": self.invalid_rows,
            "refused": self.refused,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "notes": self.notes,
            "samples": self.samples,
            "written": self.written,
            "missing": self.missing,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        data = dict(data)
        data["errors"] = [RowError(**error) for error in data.get("errors", [])]
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})

    def summary_line(self) -> str:
        """The line ``manage.py wms_import`` prints (English: scripts parse it)."""
        imported = self.new + self.updated + self.unchanged if self.ok or self.dry_run else 0
        new, updated = (self.new, self.updated) if self.ok or self.dry_run else (0, 0)
        errors = self.error_count + (1 if self.refused else 0)
        return f"imported {imported} rows (new {new}, updated {updated}), errors {errors}"


class SheetRow:
    """One data row on its way through a batch."""

    __slots__ = ("number", "raw", "values", "ok", "key", "instance", "outcome", "extra")

    def __init__(self, number: int, raw: dict[str, Any]) -> None:
        self.number = number
        self.raw = raw
        self.values: dict[str, Any] = {}
        self.ok = True
        self.key: Any = None
        self.instance: Any = None
        self.outcome = ""
        self.extra: dict[str, Any] = {}


@dataclass
class ColumnMap:
    index: dict[str, int]  # field key -> column index in the sheet
    headers: dict[str, str]  # field key -> header as written in the file
    ignored: list[str]


class ImportContext:
    """Shared state of one import run, handed to every resource hook."""

    def __init__(
        self,
        resource: SheetResource,
        report: ImportReport,
        columns: ColumnMap,
        *,
        dry_run: bool,
        user=None,
    ) -> None:
        self.resource = resource
        self.report = report
        self.columns = columns
        self.dry_run = dry_run
        self.user = user
        self.state: dict[str, Any] = {}

    def header(self, key: str) -> str:
        """The column as the file names it (for messages)."""
        if key in self.columns.headers:
            return self.columns.headers[key]
        return str(self.resource.column_label(key)) if key else ""

    def error(self, row: SheetRow | int, key: str, message: str) -> None:
        """Record a problem in ``row`` (a ``SheetRow`` or a row number) at column ``key``."""
        number = row if isinstance(row, int) else row.number
        if isinstance(row, SheetRow):
            if row.ok:
                self.report.invalid_rows += 1
            row.ok = False
        else:
            self.report.invalid_rows += 1
        self.report.error_count += 1
        if len(self.report.errors) < MAX_REPORTED_ERRORS:
            self.report.errors.append(RowError(number, self.header(key), str(message)))

    def count(self, row: SheetRow, outcome: str) -> None:
        row.outcome = outcome
        if outcome == NEW:
            self.report.new += 1
        elif outcome == UPDATED:
            self.report.updated += 1
        elif outcome == UNCHANGED:
            self.report.unchanged += 1
        else:
            self.report.skipped += 1
        if len(self.report.samples) < SAMPLE_ROWS:
            self.report.samples.append(
                {
                    "row": row.number,
                    "outcome": outcome,
                    "values": [cell_text(row.raw.get(key)) for key in self.columns.index],
                }
            )


class SheetResource(resources.Resource):
    """Base of every importable resource; see the package docstring for the contract."""

    import_key = ""
    import_label = ""
    import_permissions: tuple[str, ...] = ()
    export_permissions: tuple[str, ...] = ()
    required_columns: tuple[str, ...] = ()
    required_values: tuple[str, ...] = ()
    column_labels: dict[str, Any] = {}
    column_aliases: dict[str, tuple[str, ...]] = {}
    column_notes: dict[str, Any] = {}
    example_row: dict[str, Any] = {}
    batch_size = 2000

    # --- columns ------------------------------------------------------------------------------

    def import_field_map(self) -> dict[str, Any]:
        """Field key (the column name in import-export terms) -> import-export Field."""
        return {
            f.column_name: f for f in self.get_import_fields() if not f.readonly and f.column_name
        }

    def column_label(self, key: str):
        return self.column_labels.get(key, key)

    def accepted_headers(self, key: str) -> set[str]:
        """Every header text that names column ``key``, in every language we speak."""
        from django.conf import settings

        names = {key, *self.column_aliases.get(key, ())}
        label = self.column_label(key)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.add(str(label))
        accepted = set()
        for name in names:
            normalized = normalize_header(name)
            accepted.add(normalized)
            accepted.add(_without_parentheses(normalized))
        accepted.discard("")
        return accepted

    def map_columns(self, headers: list[str]) -> ColumnMap:
        """Match the header row to fields; refuse missing or duplicate columns."""
        lookup: dict[str, str] = {}
        for key in self.import_field_map():
            for name in self.accepted_headers(key):
                lookup.setdefault(name, key)
        index: dict[str, int] = {}
        found: dict[str, str] = {}
        ignored: list[str] = []
        for position, header in enumerate(headers):
            if not header:
                continue
            normalized = normalize_header(header)
            key = lookup.get(normalized) or lookup.get(_without_parentheses(normalized))
            if key is None:
                ignored.append(header)
                continue
            if key in index:
                raise ImportRefused(
                    _(
                        "The column '%(name)s' appears twice (columns %(first)s and %(second)s). "
                        "Delete one of them."
                    )
                    % {
                        "name": header,
                        "first": column_letter(index[key]),
                        "second": column_letter(position),
                    }
                )
            index[key] = position
            found[key] = header
        missing = [key for key in self.required_columns if key not in index]
        if missing:
            raise ImportRefused(
                _(
                    "Missing column(s): %(columns)s. The first row must hold the column headers; "
                    "download the template to see them."
                )
                % {"columns": ", ".join(str(self.column_label(key)) for key in missing)}
            )
        if not index:
            raise ImportRefused(
                _("None of the columns is known. Download the template to see the headers.")
            )
        return ColumnMap(index=index, headers=found, ignored=ignored)

    # --- hooks --------------------------------------------------------------------------------

    def begin_import(self, ctx: ImportContext) -> None:
        """Once per run, inside the transaction: preload caches (one query each)."""

    def clean_row(self, row: SheetRow, ctx: ImportContext, fields: dict[str, Any]) -> None:
        """Run each mapped cell through its field's widget into ``row.values``."""
        values = row.values
        for key, import_field in fields.items():
            raw = row.raw.get(key)
            try:
                value = import_field.widget.clean(raw, row=row.raw)
            except (ValueError, ValidationError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                ctx.error(row, key, message)
                continue
            if (value is None or value == "") and key in self.required_values:
                ctx.error(row, key, _("is required"))
                continue
            values[key] = value

    def process_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """Clean, validate and classify a batch (override for model or service resources)."""
        fields = {key: f for key, f in self.import_field_map().items() if key in ctx.columns.index}
        for row in rows:
            self.clean_row(row, ctx, fields)
        self.validate_batch(rows, ctx)
        for row in rows:
            if row.ok:
                ctx.count(row, self.classify_row(row, ctx))

    def validate_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """Checks that need the database, one query per batch; call ``ctx.error`` per bad row."""

    def classify_row(self, row: SheetRow, ctx: ImportContext) -> str:
        return NEW

    def write_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """Commit only, and only while no error has been found: write this batch's rows."""

    def finish_import(self, ctx: ImportContext) -> None:
        """After the last batch, in both modes, inside the transaction (rolled back on a dry run
        or on errors): checks across the whole file, and the posting of service resources."""

    # --- the admin's entry point --------------------------------------------------------------

    def import_data_inner(
        self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
    ) -> Result:
        """django-import-export's admin and ``import_data`` land here: same engine, same rules."""
        report = run_import(self, DatasetSheet(dataset), dry_run=dry_run, user=kwargs.get("user"))
        return report_to_result(report)

    # --- export -------------------------------------------------------------------------------

    def get_chunk_size(self) -> int:
        return self.batch_size

    def before_export(self, queryset, **kwargs) -> None:
        # The admin's export (import-export's ``export()``) lands here: same caches as ours.
        self.prepare_export()

    def export_field(self, field, instance, **kwargs):
        return export_value(super().export_field(field, instance, **kwargs))

    def export_keys(self) -> list[str]:
        return [f.column_name for f in self.get_export_fields()]

    def prepare_export(self) -> None:
        """Load the caches the widgets need to render (category paths)."""

    def export_rows(self, queryset) -> Iterator[list]:
        """The export rows of ``queryset``, streamed in chunks: each field's dehydrate method or
        widget, then ``export_value`` (native numbers and dates, escaped text)."""
        getters = []
        for export_field in self.get_export_fields():
            method = getattr(self, f"dehydrate_{self.get_field_name(export_field)}", None)
            getters.append(method or export_field.export)
        for instance in self.iter_queryset(queryset):
            yield [export_value(getter(instance)) for getter in getters]


class DatasetSheet:
    """A tablib Dataset (the admin's upload, already read by our formats) seen as a sheet."""

    kind = "dataset"

    def __init__(self, dataset) -> None:
        self.headers = [str(header or "").strip() for header in (dataset.headers or [])]
        self.header_row = getattr(dataset, "wms_header_row", 1)
        self.estimated_rows = len(dataset)
        self._dataset = dataset

    def rows(self) -> Iterator[tuple[int, list]]:
        numbers = getattr(self._dataset, "wms_row_numbers", None)
        for index, cells in enumerate(self._dataset):
            yield (numbers[index] if numbers else index + 2), list(cells)

    def close(self) -> None:
        """Nothing to release: the dataset is in memory."""


def _example_matches(resource: SheetResource, row: SheetRow) -> bool:
    example = resource.example_row
    if not example:
        return False
    compared = 0
    for key, value in example.items():
        if key not in row.raw:
            continue
        compared += 1
        if cell_text(row.raw[key]) != cell_text(value):
            return False
    return compared >= 2


def run_import(
    resource: SheetResource,
    sheet,
    *,
    dry_run: bool,
    user=None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import (or, with ``dry_run``, check) ``sheet`` through ``resource``; all-or-nothing."""
    report = ImportReport(resource=resource.import_key, dry_run=dry_run)
    using = router.db_for_write(resource._meta.model) if resource._meta.model else "default"
    try:
        columns = resource.map_columns(sheet.headers)
        report.columns = [columns.headers[key] for key in columns.index]
        report.ignored_columns = columns.ignored
        ctx = ImportContext(resource, report, columns, dry_run=dry_run, user=user)
        estimated = max(1, sheet.estimated_rows)
        index_items = list(columns.index.items())
        with transaction.atomic(using=using):
            resource.begin_import(ctx)
            batch: list[SheetRow] = []
            first = True
            for number, cells in sheet.rows():
                width = len(cells)
                raw = {key: (cells[i] if i < width else "") for key, i in index_items}
                row = SheetRow(number, raw)
                if first:
                    first = False
                    if _example_matches(resource, row):
                        report.total_rows += 1
                        ctx.count(row, SKIPPED)
                        report.notes.append(
                            _("Row %(row)s is the template's example row and was skipped.")
                            % {"row": number}
                        )
                        continue
                batch.append(row)
                if len(batch) >= resource.batch_size:
                    _run_batch(resource, batch, ctx)
                    batch = []
                    if progress:
                        progress(report.total_rows, max(estimated, report.total_rows))
            if batch:
                _run_batch(resource, batch, ctx)
            resource.finish_import(ctx)
            if progress:
                progress(report.total_rows, report.total_rows)
            if report.total_rows == 0:
                raise ImportRefused(_("The sheet has a header row but no data rows."))
            if dry_run or not report.ok:
                transaction.set_rollback(True, using=using)
            else:
                report.written = True
    except ImportRefused as refusal:
        report.refused = str(refusal)
        report.written = False
    except IntegrityError as error:
        logger.warning("import %s hit a database constraint: %s", resource.import_key, error)
        report.written = False
        report.refused = _(
            "Nothing was imported: the database refused a row (%(error)s). Another change to "
            "the same records may have happened at the same time; check the file again."
        ) % {"error": str(error).splitlines()[0][:200]}
    except DatabaseError as error:
        logger.exception("import %s failed in the database", resource.import_key)
        report.written = False
        report.refused = _("Nothing was imported: the database reported an error (%(error)s).") % {
            "error": str(error).splitlines()[0][:200]
        }
    finally:
        sheet.close()
    report.errors.sort(key=lambda error: error.row)
    return report


def _run_batch(resource: SheetResource, batch: list[SheetRow], ctx: ImportContext) -> None:
    resource.process_batch(batch, ctx)
    ctx.report.total_rows += len(batch)
    if not ctx.dry_run and ctx.report.error_count == 0:
        resource.write_batch([row for row in batch if row.ok], ctx)


def report_to_result(report: ImportReport) -> Result:
    """The import-export ``Result`` the admin templates expect, built from our report."""
    result = Result()
    result.total_rows = report.total_rows
    result.diff_headers = list(report.columns)
    result.totals[RowResult.IMPORT_TYPE_NEW] = report.new
    result.totals[RowResult.IMPORT_TYPE_UPDATE] = report.updated
    result.totals[RowResult.IMPORT_TYPE_SKIP] = report.unchanged + report.skipped
    result.totals[RowResult.IMPORT_TYPE_INVALID] = report.invalid_rows
    if report.refused:
        result.append_base_error(Error(ImportRefused(report.refused)))
    by_row: dict[int, dict[str, list[str]]] = {}
    for error in report.errors:
        by_row.setdefault(error.row, {}).setdefault(error.column or "__all__", []).append(
            error.message
        )
    for number, messages in by_row.items():
        result.invalid_rows.append(
            InvalidRow(number=number, validation_error=ValidationError(messages), values=())
        )
    kinds = {
        NEW: RowResult.IMPORT_TYPE_NEW,
        UPDATED: RowResult.IMPORT_TYPE_UPDATE,
        UNCHANGED: RowResult.IMPORT_TYPE_SKIP,
        SKIPPED: RowResult.IMPORT_TYPE_SKIP,
    }
    for sample in report.samples:
        row_result = RowResult()
        row_result.import_type = kinds[sample["outcome"]]
        row_result.diff = sample["values"]
        result.append_row_result(row_result)
    result.wms_report = report
    return result


# --- model resources --------------------------------------------------------------------------


def field_check(model_field: models.Field) -> Callable[[Any], str | None] | None:
    """A cheap per-value check for the model field's own limits (max_length, digits, ranges)."""
    checks: list[Callable[[Any], str | None]] = []
    if isinstance(model_field, models.CharField) and model_field.max_length:
        limit = model_field.max_length

        def max_length(value):
            if value and len(value) > limit:
                return _("is longer than %(max)s characters") % {"max": limit}
            return None

        checks.append(max_length)
    if isinstance(model_field, models.DecimalField):
        whole_digits = model_field.max_digits - model_field.decimal_places

        ceiling = Decimal(10) ** whole_digits

        def digits(value):
            if value is not None and value.copy_abs() >= ceiling:
                return _("%(value)s is too large") % {"value": value}
            return None

        checks.append(digits)
    if isinstance(model_field, (models.IntegerField,)):
        low, high = (0, 2147483647) if "Positive" in type(model_field).__name__ else (None, None)
        if low is not None:

            def integer_range(value):
                if value is not None and not (low <= value <= high):
                    return _("%(value)s is out of range (%(low)s to %(high)s)") % {
                        "value": value,
                        "low": low,
                        "high": high,
                    }
                return None

            checks.append(integer_range)
    for validator in model_field.validators:
        if isinstance(validator, MinValueValidator):
            floor = validator.limit_value

            def minimum(value, floor=floor):
                if value is not None and value < floor:
                    return _("must be at least %(min)s") % {"min": floor}
                return None

            checks.append(minimum)
        elif isinstance(validator, MaxValueValidator):
            ceiling = validator.limit_value

            def maximum(value, ceiling=ceiling):
                if value is not None and value > ceiling:
                    return _("must be at most %(max)s") % {"max": ceiling}
                return None

            checks.append(maximum)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def all_checks(value):
        for check in checks:
            message = check(value)
            if message:
                return message
        return None

    return all_checks


class BulkModelResource(SheetResource, resources.ModelResource):
    """A model resource written in bulk: per batch one query for the existing rows, one
    ``bulk_create`` for the new ones and one ``INSERT ... ON CONFLICT (id) DO UPDATE`` for the
    changed ones. Subclasses say how a row is keyed (``key_for``) and found (``fetch_existing``).
    """

    keep_when_blank: tuple[str, ...] = ()

    # --- subclass API -------------------------------------------------------------------------

    def key_for(self, row: SheetRow, ctx: ImportContext):
        """The identity of the row (e.g. the upper-cased SKU), or None when it has none."""
        raise NotImplementedError

    def fetch_existing(self, keys: list, ctx: ImportContext) -> dict:
        """Existing instances by key, for this batch: one query."""
        raise NotImplementedError

    def duplicate_message(self, row: SheetRow, first_row: int) -> tuple[str, str]:
        return "", _("this row repeats row %(row)s") % {"row": first_row}

    def has_key_values(self, row: SheetRow) -> bool:
        """True when the row's identity cleaned well, even if other cells did not."""
        return all(key in row.values for key in self._meta.import_id_fields)

    def resolve_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """Turn references into ids for the whole batch with one query (e.g. SKUs of goods)."""

    def new_instance(self, row: SheetRow, ctx: ImportContext):
        return self._meta.model()

    def validate_instance_row(self, row: SheetRow, ctx: ImportContext) -> None:
        """Row checks that need the instance (``row.instance``, ``row.outcome``)."""

    # --- engine -------------------------------------------------------------------------------

    def begin_import(self, ctx: ImportContext) -> None:
        model = self._meta.model
        fields = self.import_field_map()
        ctx.state["attributes"] = {}
        ctx.state["checks"] = {}
        for key in ctx.columns.index:
            import_field = fields.get(key)
            if import_field is None or not import_field.attribute:
                continue
            attribute = import_field.attribute
            ctx.state["attributes"][key] = attribute
            try:
                model_field = model._meta.get_field(attribute.removesuffix("_id"))
            except FieldDoesNotExist:
                continue  # a computed attribute: no model field to check against
            if isinstance(import_field.widget, NumberWidget) and isinstance(
                model_field, models.DecimalField
            ):
                import_field.widget.decimal_places = model_field.decimal_places
            check = field_check(model_field)
            if check:
                ctx.state["checks"][key] = check
        ctx.state["seen"] = {}
        ctx.state["new"] = []
        ctx.state["changed"] = []
        ctx.state["deleted"] = []
        ctx.state["update_fields"] = sorted(
            {
                attribute
                for attribute in ctx.state["attributes"].values()
                if attribute not in self.key_attributes()
            }
        )
        for import_field in fields.values():
            load = getattr(import_field.widget, "load", None)
            if load is not None and import_field.column_name in ctx.columns.index:
                load()

    def key_attributes(self) -> tuple[str, ...]:
        return ()

    def process_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        for pending in ("new", "changed", "deleted"):
            ctx.state[pending].clear()
        fields = {key: f for key, f in self.import_field_map().items() if key in ctx.columns.index}
        checks = ctx.state["checks"]
        for row in rows:
            self.clean_row(row, ctx, fields)
            if not row.ok:
                continue
            for key, check in checks.items():
                value = row.values.get(key)
                if value is not None:
                    message = check(value)
                    if message:
                        ctx.error(row, key, message)
        self.resolve_batch([row for row in rows if row.ok], ctx)
        seen = ctx.state["seen"]
        keyed = []
        for row in rows:
            # A row with other errors still claims its key, so a later duplicate is reported
            # now rather than after the user fixed the first problem.
            if not row.ok and not self.has_key_values(row):
                continue
            was_ok = row.ok
            key = self.key_for(row, ctx)
            if key is None:
                continue
            first = seen.get(key)
            if first is not None:
                column, message = self.duplicate_message(row, first)
                ctx.error(row, column, message)
                continue
            seen[key] = row.number
            row.key = key
            if was_ok and row.ok:
                keyed.append(row)
        existing = self.fetch_existing([row.key for row in keyed], ctx) if keyed else {}
        attributes = ctx.state["attributes"]
        keep = self.keep_when_blank
        for row in keyed:
            if not row.ok:
                continue
            instance = existing.get(row.key)
            values = row.values
            if instance is None:
                instance = self.new_instance(row, ctx)
                for key, attribute in attributes.items():
                    if key in values and not (values[key] is None and key in keep):
                        setattr(instance, attribute, values[key])
                row.outcome = NEW
            else:
                changed = False
                for key, attribute in attributes.items():
                    if key not in values:
                        continue
                    value = values[key]
                    if value is None and key in keep:
                        continue
                    if getattr(instance, attribute) != value:
                        setattr(instance, attribute, value)
                        changed = True
                row.outcome = UPDATED if changed else UNCHANGED
            row.instance = instance
            self.validate_instance_row(row, ctx)
        self.validate_batch(keyed, ctx)
        new, changed, deleted = ctx.state["new"], ctx.state["changed"], ctx.state["deleted"]
        for row in keyed:
            if not row.ok:
                continue
            ctx.count(row, row.outcome)
            if row.extra.get("delete"):
                deleted.append(row.instance.pk)
            elif row.outcome == NEW:
                new.append(row.instance)
            elif row.outcome == UPDATED:
                changed.append(row.instance)

    def write_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        model = self._meta.model
        new, changed = ctx.state["new"], ctx.state["changed"]
        if new:
            model.objects.bulk_create(new, batch_size=self.batch_size)
        if changed:
            model.objects.bulk_create(
                changed,
                batch_size=self.batch_size,
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=self.update_fields(ctx),
            )
        if ctx.state["deleted"]:
            model.objects.filter(pk__in=list(ctx.state["deleted"])).delete()
        for pending in ("new", "changed", "deleted"):
            ctx.state[pending].clear()

    def update_fields(self, ctx: ImportContext) -> list[str]:
        fields = list(ctx.state["update_fields"])
        if any(f.name == "updated_at" for f in self._meta.model._meta.concrete_fields):
            fields.append("updated_at")
        return [name.removesuffix("_id") if name.endswith("_id") else name for name in fields]

    def finish_import(self, ctx: ImportContext) -> None:
        for pending in ("new", "changed", "deleted"):
            ctx.state[pending].clear()
