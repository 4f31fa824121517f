"""Spreadsheet import and export of the inventory app (xlsx and csv), built on django-import-export.

Users see django-import-export everywhere (the admin's Import/Export buttons, our own upload
screens, ``manage.py wms_import``/``wms_export``); underneath, one engine streams the rows in
batches, so a 100,000-row sheet is checked and written at close to the speed of hand-written
bulk code. This docstring is the contract for anyone adding a resource (e.g. inbound sheets).

Modules
-------
files.py      ``open_sheet(path, filename)``: the safety checks (type sniffing, damaged and
              password-protected workbooks, zip bombs, cell-extent and row caps, CSV encodings)
              and the row stream. Raises ``ImportRefused``.
engine.py     ``run_import(resource, sheet, dry_run=...)`` -> ``ImportReport``; the resource base
              classes ``SheetResource`` and ``BulkModelResource``.
widgets.py    import-export widgets that accept real spreadsheet cells and escape exports.
registry.py   ``@register``; ``registry.get(key)``, ``importable_by(user)``, ``exportable_by(user)``.
jobs.py       the persisted flow: upload -> check (dry run, preview) -> commit, with the Celery path.
exports.py    ``export_create(...)`` (file + export history), the fast xlsx/csv writers.
retention.py  ``expired_files_remove()``: uploaded sheets and export files older than
              ``WMS_FILE_RETENTION_DAYS`` are deleted (daily task); the history says "expired".
templates.py  ``build_template(resource)``: the downloadable template with its notes sheet.
formats.py    ``WmsXLSX``/``WmsCSV``: import-export formats for the admin, same checks and writers.
goods.py, shopify.py   the catalogue's resources (goods, combo_components, batches, shopify_products).

Registering a resource
----------------------
Put a module in this package (it is imported by ``registry.autodiscover()``) with::

    @register
    class InboundSheetResource(SheetResource):          # or BulkModelResource for a model
        import_key = "inbound_sheet"                    # URL /inventory/imports/new/inbound_sheet/
                                                        # and `manage.py wms_import inbound_sheet f`
        import_label = gettext_lazy("Inbound sheet")
        import_permissions = ("inventory.add_inboundsheet",)   # all required to import
        export_permissions = ()                         # empty: not exportable
        required_columns = ("sku", "quantity")          # refused when the column is missing
        required_values = ("sku", "quantity")           # "is required" when the cell is blank
        column_labels = {"sku": gettext_lazy("SKU"), ...}      # headers, in the user's language
        column_aliases = {"sku": ("货品编码",)}          # other accepted headers
        column_notes = {"sku": gettext_lazy("...")}     # the template's notes sheet
        example_row = {"sku": "EXAMPLE-0001", ...}      # the template's example row (skipped)

        sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
        quantity = Field(attribute="quantity", column_name="quantity", widget=IntegerWidget())

Headers are matched case-insensitively against the key, the label in every language and the
aliases; a column twice is refused, unknown columns are listed as ignored.

How a run goes (``run_import``)
-------------------------------
Inside one ``transaction.atomic()``:

1. ``begin_import(ctx)`` once: preload caches (one query each).
2. for each batch of ``batch_size`` (2,000) non-blank rows, ``process_batch(rows, ctx)``: the
   default cleans every mapped cell with its field's widget into ``row.values`` (a widget raises
   ``ValueError`` -> an error at that row and column), calls ``validate_batch(rows, ctx)`` (one
   query per batch for what needs the database) and counts each valid row with
   ``ctx.count(row, classify_row(row, ctx))`` (NEW / UPDATED / UNCHANGED / SKIPPED).
   Report a problem with ``ctx.error(row, column_key, message)``: the preview shows
   "row 17, Brand: 'Acme' does not exist" (sheet row number, the header as written in the file).
3. when committing and no error so far: ``write_batch(valid_rows, ctx)``.
4. ``finish_import(ctx)`` once, in both modes: checks across the whole file, and the place where
   a resource that posts through a service does its work.
5. a dry run, or any error anywhere, rolls the whole transaction back: nothing is written.

``ctx.state`` is a dict for the resource's own bookkeeping across batches; ``ctx.user`` is the
importing user, ``ctx.dry_run`` the mode.

A resource that posts through a service (never ``instance.save()``)
--------------------------------------------------------------------
Subclass ``SheetResource``; collect what the rows ask for in ``process_batch`` (after
``super().process_batch``, take ``row.values`` of the valid rows into ``ctx.state``) and call the
service from ``finish_import``, catching its typed errors::

    def finish_import(self, ctx):
        if not ctx.report.ok:
            return                                 # row errors: do not post anything
        try:
            inbound_sheet_post(lines=ctx.state["lines"], user=ctx.user, ...)
        except StockError as error:
            ctx.error(ctx.state["first_row"], "", str(error))   # or the row the error names

Calling the service in the dry run too is allowed and often best: the engine rolls the dry run
back, so its own refusals (a frozen bin, an unknown batch) show in the preview. Side effects the
service registers with ``transaction.on_commit`` are dropped with the rollback.

Running it
----------
Screens: ``jobs.import_job_create(user=, resource_key=, upload=, language=)`` checks small files
at once and queues ``inventory.tasks.import_job_check_task`` for files over
``WMS_IMPORT_BACKGROUND_ROWS`` (2,000) rows; the job page (``inventory:import-job``) polls with
htmx and shows the preview; ``jobs.import_job_commit(job=, user=)`` commits (in the background
for big files). Scripts: ``manage.py wms_import <key> <file> [--dry-run]``. Code:
``run_import(resource_class(), open_sheet(path, name), dry_run=True)``. The admin: use
``inventory.admin.goods.WmsImportExportAdmin`` with ``resource_classes = [YourResource]``.

Settings (with defaults): ``WMS_UPLOAD_MAX_BYTES`` (50 MiB), ``WMS_IMPORT_MAX_ROWS`` (200,000
data rows), ``WMS_IMPORT_MAX_UNCOMPRESSED_BYTES`` (512 MiB inflated), ``WMS_IMPORT_MAX_ZIP_ENTRIES``
(1,000), ``WMS_IMPORT_MAX_ZIP_RATIO`` (500:1 for entries over 1 MiB), ``WMS_IMPORT_MAX_CELLS``
(12,000,000 cells in the sheet's used rectangle), ``WMS_IMPORT_MAX_COLUMNS`` (200),
``WMS_IMPORT_BACKGROUND_ROWS`` (2,000).
"""
