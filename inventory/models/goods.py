from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wms.choices import badges


class Category(models.Model):
    """A node of the goods category tree (parent/child)."""

    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_name_unique_under_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(parent__isnull=True),
                name="category_root_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GoodsQuerySet(models.QuerySet):
    def active(self) -> "GoodsQuerySet":
        return self.filter(is_active=True)


class Goods(models.Model):
    """货品: one SKU the warehouse stores. A combo goods (``is_combo``) is made of components and
    holds no stock of its own: receiving or shipping it moves the components."""

    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True, default="")
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="goods",
        verbose_name=_("category"),
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="goods",
        verbose_name=_("brand"),
    )
    unit = models.CharField(_("unit"), max_length=16, default="pcs")
    weight = models.DecimalField(
        _("weight (kg)"),
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    volume = models.DecimalField(
        _("volume (L)"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    is_combo = models.BooleanField(_("combo goods"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = GoodsQuerySet.as_manager()

    class Meta:
        verbose_name = _("goods")
        verbose_name_plural = _("goods")
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(Upper("sku"), name="goods_sku_ci_unique"),
            models.UniqueConstraint(
                fields=["barcode"], condition=~models.Q(barcode=""), name="goods_barcode_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["sku"], name="goods_sku_idx"),
            models.Index(fields=["name"], name="goods_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    def clean(self) -> None:
        self.sku = (self.sku or "").strip()
        self.barcode = (self.barcode or "").strip()
        if not self.sku:
            raise ValidationError({"sku": _("SKU is required.")})


class ComboComponent(models.Model):
    """One line of a combo goods: ``quantity`` units of ``component`` make one ``combo``."""

    combo = models.ForeignKey(
        Goods, on_delete=models.CASCADE, related_name="components", verbose_name=_("combo goods")
    )
    component = models.ForeignKey(
        Goods, on_delete=models.PROTECT, related_name="part_of", verbose_name=_("component")
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("combo component")
        verbose_name_plural = _("combo components")
        constraints = [
            models.UniqueConstraint(fields=["combo", "component"], name="combo_component_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="combo_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(combo=models.F("component")), name="combo_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.combo_id} = {self.quantity} x {self.component_id}"


class Batch(models.Model):
    """批次: a lot of one goods, with its dates. Expiry defaults from the goods' shelf life."""

    goods = models.ForeignKey(
        Goods, on_delete=models.PROTECT, related_name="batches", verbose_name=_("goods")
    )
    batch_no = models.CharField(_("batch number"), max_length=64)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    inbound_date = models.DateField(_("inbound date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["goods_id", "expiry_date", "batch_no"]
        constraints = [
            models.UniqueConstraint(fields=["goods", "batch_no"], name="batch_no_unique_per_goods"),
        ]
        indexes = [models.Index(fields=["expiry_date"], name="batch_expiry_idx")]

    def __str__(self) -> str:
        return self.batch_no


class ImportJob(models.Model):
    """One uploaded sheet on its way through the import flow (inventory/imports): checked (the
    dry run, with its preview), then committed all-or-nothing. Persisted so a user can leave the
    page while a large file is checked or committed by a Celery worker and come back to it.

    ``preview`` and ``result`` hold ``ImportReport.as_dict()``; the uploaded file is kept under
    MEDIA_ROOT/imports and only ever served to its owner through a permission-checked view.
    """

    @badges(
        queued="off",
        checking="off",
        committing="off",
        ready="ok",
        done="ok",
        invalid="warn",
        refused="warn",
        failed="warn",
    )
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be checked")
        CHECKING = "checking", _("Checking")
        READY = "ready", _("Checked, ready to import")
        INVALID = "invalid", _("Has errors")
        REFUSED = "refused", _("File refused")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", pgettext_lazy("import job status", "Failed")

    RUNNING = (Status.QUEUED, Status.CHECKING, Status.COMMITTING)

    resource = models.CharField(_("resource"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
        verbose_name=_("user"),
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    language = models.CharField(_("language"), max_length=16, default="en")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    in_background = models.BooleanField(_("runs in the background"), default=False)
    progress_rows = models.PositiveIntegerField(_("rows done"), default=0)
    total_rows = models.PositiveIntegerField(_("rows (estimate)"), default=0)
    message = models.TextField(_("message"), blank=True, default="")
    preview = models.JSONField(_("preview"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    #: Brands and category paths the user agreed to create with the import (goods sheets):
    #: {"brands": [...], "categories": [...]}; empty when none.
    create_missing = models.JSONField(_("create missing names"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # wms.jobs: how many times a worker took the job; when it last said it was alive (NULL while
    # it waits for a worker).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last heard of"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="importjob_user_idx")]

    def __str__(self) -> str:
        return f"{self.resource} · {self.original_name}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(self.progress_rows * 100 / self.total_rows))


class ExportRecord(models.Model):
    """导出历史: who exported which resource, with which filters, how many rows, when; the file
    stays under MEDIA_ROOT/exports for re-download through a permission-checked view."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV (.csv)"

    resource = models.CharField(_("resource"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export_records",
        verbose_name=_("user"),
    )
    source = models.CharField(_("source"), max_length=16, default="screen")
    file_format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    filters_display = models.CharField(_("filters (as shown)"), max_length=500, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", max_length=255)
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("exported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportrecord_user_idx")]

    def __str__(self) -> str:
        return f"{self.resource} · {self.file_name}"

    @property
    def is_expired(self) -> bool:
        """The file was removed after ``WMS_FILE_RETENTION_DAYS`` (the row stays as history)."""
        return not self.file
