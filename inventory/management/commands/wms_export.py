"""``manage.py wms_export <resource> <file>``: export every row of a resource to .xlsx or .csv.

The format follows the file's extension; headers are in English (``--language zh-hans`` for
Chinese); text that a spreadsheet would execute is escaped. The export is recorded in the export
history (source "command").
"""

import shutil
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from inventory.imports import exports, registry


class Command(BaseCommand):
    help = "Export goods, combo components or batches to an .xlsx or .csv file."

    def add_arguments(self, parser):
        parser.add_argument("resource", help="what to export, e.g. goods")
        parser.add_argument("file", help="path of the .xlsx or .csv file to write")
        parser.add_argument("--language", default="en", help="language of the headers")

    def handle(self, *args, **options):
        resource_class = registry.get(options["resource"])
        if resource_class is None or not resource_class.export_permissions:
            known = ", ".join(
                r.import_key for r in registry.all_resources() if r.export_permissions
            )
            raise CommandError(
                f"unknown or not exportable resource {options['resource']!r}; known: {known}"
            )
        target = Path(options["file"])
        file_format = target.suffix.lower().lstrip(".")
        if file_format not in (exports.XLSX, exports.CSV):
            raise CommandError("the file must end in .xlsx or .csv")
        with translation.override(options["language"]):
            record = exports.export_create(
                user=None,
                resource_key=resource_class.import_key,
                file_format=file_format,
                source="command",
                filters_display="",
            )
        shutil.copyfile(default_storage.path(record.file.name), target)
        self.stdout.write(f"exported {record.row_count} rows to {target}")
