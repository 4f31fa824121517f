"""Exports: a resource's rows written to xlsx or csv, recorded in the export history.

The files are written by the one writer of every export, ``wms.writers`` (``write_xlsx``,
``write_csv``; re-exported here with the format names for the callers of this module). Values
arrive already escaped by the resource (``export_value``; the writer's escaping is idempotent),
so text that a spreadsheet would execute starts with an apostrophe and numbers stay numbers.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone

from inventory.imports import registry
from inventory.imports.engine import SheetResource
from inventory.models import ExportRecord
from wms.writers import CONTENT_TYPES, CSV, XLSX, write_csv, write_xlsx

__all__ = [
    "CONTENT_TYPES",
    "CSV",
    "XLSX",
    "export_create",
    "write_csv",
    "write_export",
    "write_xlsx",
]


def write_export(
    resource: SheetResource, queryset, path: str | Path, file_format: str, title: str = ""
) -> int:
    """Write ``queryset`` through ``resource`` (headers in the active language)."""
    resource.prepare_export()
    headers = [str(resource.column_label(key)) for key in resource.export_keys()]
    rows = resource.export_rows(queryset)
    if file_format == XLSX:
        return write_xlsx(path, headers, rows, title or str(resource.import_label))
    return write_csv(path, headers, rows)


def export_create(
    *,
    user,
    resource_key: str,
    file_format: str,
    queryset=None,
    filters: dict | None = None,
    filters_display: str = "",
    source: str = "screen",
) -> ExportRecord:
    """Export ``resource_key`` rows (``queryset``: what the resource's ``export_queryset`` narrows
    to, e.g. the filtered goods) to a file under MEDIA_ROOT/exports and record it in the export
    history. The caller checks the user's export permission."""
    resource_class = registry.get(resource_key)
    if resource_class is None:
        raise ValueError(f"unknown resource {resource_key!r}")
    if file_format not in (XLSX, CSV):
        raise ValueError(f"unknown format {file_format!r}")
    resource = resource_class()
    rows_queryset = resource.export_queryset(queryset)
    now = timezone.localtime()
    file_name = f"{resource_key}-{now:%Y%m%d-%H%M%S}.{file_format}"
    relative = f"exports/{now:%Y/%m}/{uuid.uuid4().hex}.{file_format}"
    target = Path(default_storage.path(relative))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        count = write_export(resource, rows_queryset, target, file_format)
        record = ExportRecord(
            resource=resource_key,
            user=user,
            source=source,
            file_format=file_format,
            filters=filters or {},
            filters_display=filters_display[:500],
            row_count=count,
            file_name=file_name,
            size=target.stat().st_size,
        )
        record.file.name = relative
        record.save()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return record
