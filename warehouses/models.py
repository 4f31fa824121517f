from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

# Codes are printed on labels and typed on phones: letters, digits, dot, dash and underscore.
code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    _("Use letters, digits, dots, dashes and underscores only, starting with a letter or digit."),
    code="invalid_code",
)


class WarehouseQuerySet(models.QuerySet):
    def active(self) -> "WarehouseQuerySet":
        return self.filter(is_active=True)

    def search(self, text: str) -> "WarehouseQuerySet":
        """Warehouses whose code, name or address contains ``text`` (any case)."""
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(
            models.Q(code__icontains=text)
            | models.Q(name__icontains=text)
            | models.Q(address__icontains=text)
        )


class Warehouse(models.Model):
    """A physical warehouse. ``priority``: lower ships first when several can fill an order."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    priority = models.PositiveIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = WarehouseQuerySet.as_manager()

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]
        constraints = [
            models.UniqueConstraint(
                Upper("code"),
                name="warehouse_code_ci_unique",
                violation_error_message=_(
                    "A warehouse with this code already exists (codes ignore letter case)."
                ),
            ),
            models.CheckConstraint(
                condition=(models.Q(latitude__isnull=True) & models.Q(longitude__isnull=True))
                | (models.Q(latitude__isnull=False) & models.Q(longitude__isnull=False)),
                name="warehouse_lat_lng_together",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def clean(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("Give both latitude and longitude, or neither."))


class Zone(models.Model):
    class Type(models.TextChoices):
        PICKING = "picking", _("Picking zone")
        STORAGE = "storage", _("Storage zone")

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="zones", verbose_name=_("warehouse")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.STORAGE)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["warehouse__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "code"],
                name="zone_code_unique_in_warehouse",
                violation_error_message=_("This warehouse already has a zone with this code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code} · {self.name}"


class BinQuerySet(models.QuerySet):
    def active(self) -> "BinQuerySet":
        return self.filter(is_active=True)

    def code_starts_with(self, text: str) -> "BinQuerySet":
        """Bins whose code starts with ``text``, any case (indexed on PostgreSQL)."""
        text = (text or "").strip()
        return self.filter(code__istartswith=text) if text else self


class Bin(models.Model):
    """A storage location. Its warehouse is stored beside the zone so bin codes can be unique per
    warehouse; ``clean`` and the services refuse a zone of another warehouse."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="bins", verbose_name=_("warehouse")
    )
    zone = models.ForeignKey(
        Zone, on_delete=models.PROTECT, related_name="bins", verbose_name=_("zone")
    )
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BinQuerySet.as_manager()

    class Meta:
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        ordering = ["warehouse__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "code"],
                name="bin_code_unique_in_warehouse",
                violation_error_message=_("This warehouse already has a bin with this code."),
            ),
        ]
        indexes = [models.Index(fields=["code"], name="bin_code_idx")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"

    def clean(self) -> None:
        if self.zone_id and self.warehouse_id and self.zone.warehouse_id != self.warehouse_id:
            raise ValidationError({"zone": _("This zone belongs to another warehouse.")})
