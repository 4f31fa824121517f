"""``manage.py wms_import <resource> <file> [--dry-run]``: import a sheet from a script.

Runs the same checks and engine as the screens, synchronously. Prints
``imported N rows (new X, updated Y), errors E`` (and each error on stderr) and exits with
status 1 when E > 0; with errors nothing is written (all-or-nothing).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.imports import registry
from inventory.imports.engine import ImportReport, run_import
from inventory.imports.errors import ImportRefused
from inventory.imports.files import open_sheet


class Command(BaseCommand):
    help = "Import a goods, combo, batch or Shopify sheet (.xlsx or .csv), all-or-nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "resource",
            help="what to import: "
            + ", ".join(resource.import_key for resource in registry.all_resources()),
        )
        parser.add_argument("file", help="path of the .xlsx or .csv file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file only, write nothing"
        )
        parser.add_argument("--user", help="username recorded as the importer (optional)")

    def handle(self, *args, **options):
        resource_class = registry.get(options["resource"])
        if resource_class is None:
            known = ", ".join(resource.import_key for resource in registry.all_resources())
            raise CommandError(f"unknown resource {options['resource']!r}; known: {known}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        user = None
        if options.get("user"):
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no such user: {options['user']}")
        dry_run = options["dry_run"]
        try:
            sheet = open_sheet(str(path), path.name)
        except ImportRefused as refusal:
            report = ImportReport(resource=resource_class.import_key, dry_run=dry_run)
            report.refused = str(refusal)
        else:
            report = run_import(resource_class(), sheet, dry_run=dry_run, user=user)
        if report.refused:
            self.stderr.write(f"refused: {report.refused}")
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors_truncated:
            self.stderr.write(f"... and {report.error_count - len(report.errors)} more errors")
        self.stdout.write(report.summary_line())
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        if not report.ok:
            raise CommandError(
                "the file has errors; nothing was written (one bad row stops the whole import)",
                returncode=1,
            )
