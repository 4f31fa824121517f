"""Every write to warehouses, zones and bins: one function per business action.

Each function runs in one transaction and either completes or raises a
``warehouses.exceptions.WarehouseDomainError`` subclass with nothing written. Updates lock the
row they change (``SELECT ... FOR UPDATE``) before reading it, so two editors cannot interleave.
Deactivating bins (directly or through their warehouse) locks the bin rows in primary-key order
and asks ``warehouses.hooks`` guards, inside the same transaction, whether a bin must stay active.
"""

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from warehouses import hooks
from warehouses.exceptions import (
    BinsGuarded,
    DuplicateCode,
    InvalidCoordinates,
    InvalidInput,
    WarehouseDomainError,
    ZoneOfAnotherWarehouse,
)
from warehouses.models import Bin, Warehouse, Zone

CoordinateInput = Decimal | float | int | str | None
_SIX_PLACES = Decimal("0.000001")


# --- helpers --------------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _coordinate(value: CoordinateInput, *, field: str, limit: int) -> Decimal | None:
    """Parse one coordinate; rounds to 6 decimal places (about 0.1 m)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    label = _("Latitude") if field == "latitude" else _("Longitude")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise InvalidCoordinates(
            _("%(label)s must be a number in decimal degrees, such as %(example)s.")
            % {"label": label, "example": "-33.868800" if field == "latitude" else "151.209300"},
            field=field,
        )
    if abs(number) > limit:
        raise InvalidCoordinates(
            _("%(label)s must be between -%(limit)s and %(limit)s.")
            % {"label": label, "limit": limit},
            field=field,
        )
    return number.quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)


def _coordinates(
    latitude: CoordinateInput, longitude: CoordinateInput
) -> tuple[Decimal | None, Decimal | None]:
    lat = _coordinate(latitude, field="latitude", limit=90)
    lng = _coordinate(longitude, field="longitude", limit=180)
    if (lat is None) != (lng is None):
        raise InvalidCoordinates(
            _("Give both latitude and longitude, or neither."),
            field="longitude" if lng is None else "latitude",
        )
    return lat, lng


def _validate_fields(instance: models.Model, *, exclude: tuple[str, ...] = ()) -> None:
    """The model's own field rules (blank, length, format); uniqueness is checked by callers."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def _save(instance: models.Model, *, conflict: Callable[[], WarehouseDomainError | None]) -> None:
    """Save in a savepoint; a unique violation (a concurrent insert won the race) is turned into
    the domain error ``conflict()`` finds, so the caller sees the same refusal either way."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        error = conflict()
        if error is None:
            raise
        raise error from exc


def _warehouse_code_taken(code: str, *, exclude_pk: int | None = None) -> DuplicateCode | None:
    taken = Warehouse.objects.filter(code__iexact=code).exclude(pk=exclude_pk).first()
    if taken is None:
        return None
    return DuplicateCode(
        _("A warehouse with code %(code)s already exists (%(name)s).")
        % {"code": taken.code, "name": taken.name},
        field="code",
    )


def _zone_code_taken(
    warehouse: Warehouse, code: str, *, exclude_pk: int | None = None
) -> DuplicateCode | None:
    if not Zone.objects.filter(warehouse=warehouse, code=code).exclude(pk=exclude_pk).exists():
        return None
    return DuplicateCode(
        _("Warehouse %(warehouse)s already has a zone with code %(code)s.")
        % {"warehouse": warehouse.code, "code": code},
        field="code",
    )


def _bin_code_taken(
    warehouse: Warehouse, code: str, *, exclude_pk: int | None = None
) -> DuplicateCode | None:
    if not Bin.objects.filter(warehouse=warehouse, code=code).exclude(pk=exclude_pk).exists():
        return None
    return DuplicateCode(
        _("Warehouse %(warehouse)s already has a bin with code %(code)s.")
        % {"warehouse": warehouse.code, "code": code},
        field="code",
    )


def _check_zone_in_warehouse(*, zone: Zone, warehouse: Warehouse) -> None:
    if zone.warehouse_id != warehouse.pk:
        raise ZoneOfAnotherWarehouse(
            _("Zone %(zone)s belongs to another warehouse, not to %(warehouse)s.")
            % {"zone": zone.code, "warehouse": warehouse.code},
            field="zone",
        )


# --- warehouses -----------------------------------------------------------------------------


def warehouse_create(
    *,
    code: str,
    name: str,
    address: str = "",
    email: str = "",
    latitude: CoordinateInput = None,
    longitude: CoordinateInput = None,
    priority: int = 100,
) -> Warehouse:
    """Create an active warehouse.

    Raises DuplicateCode when the code is taken in any letter case, InvalidCoordinates for a
    malformed or out-of-range coordinate or one given without the other, InvalidInput for other
    field rules (blank name, bad e-mail, code characters, negative priority).
    """
    lat, lng = _coordinates(latitude, longitude)
    warehouse = Warehouse(
        code=_text(code),
        name=_text(name),
        address=_text(address),
        email=_text(email),
        latitude=lat,
        longitude=lng,
        priority=priority,
    )
    _validate_fields(warehouse)
    with transaction.atomic():
        if error := _warehouse_code_taken(warehouse.code):
            raise error
        _save(warehouse, conflict=lambda: _warehouse_code_taken(warehouse.code))
    return warehouse


def warehouse_update(
    *,
    warehouse: Warehouse,
    code: str,
    name: str,
    address: str,
    email: str,
    latitude: CoordinateInput,
    longitude: CoordinateInput,
    priority: int,
) -> Warehouse:
    """Change a warehouse's details (not its active flag). Locks the warehouse row.

    Raises the same errors as ``warehouse_create``.
    """
    lat, lng = _coordinates(latitude, longitude)
    with transaction.atomic():
        locked = Warehouse.objects.select_for_update(no_key=True).get(pk=warehouse.pk)
        locked.code = _text(code)
        locked.name = _text(name)
        locked.address = _text(address)
        locked.email = _text(email)
        locked.latitude = lat
        locked.longitude = lng
        locked.priority = priority
        _validate_fields(locked)
        if error := _warehouse_code_taken(locked.code, exclude_pk=locked.pk):
            raise error
        _save(locked, conflict=lambda: _warehouse_code_taken(locked.code, exclude_pk=locked.pk))
    return locked


def warehouse_deactivate(*, warehouse: Warehouse) -> Warehouse:
    """Stop using a warehouse; its zones and bins keep their own flags for a later reactivation.

    Locks the warehouse row, then every bin of it in primary-key order, and asks the bin
    deactivation guards about all of them: raises BinsGuarded (nothing changed) when any bin
    must stay active. Deactivating an inactive warehouse changes nothing.

    The warehouse row is locked FOR NO KEY UPDATE: postings insert balance and movement rows
    that reference it (a KEY SHARE lock), and must not wait on it while holding their bin locks,
    or a receipt and this deactivation would deadlock.
    """
    with transaction.atomic():
        locked = Warehouse.objects.select_for_update(no_key=True).get(pk=warehouse.pk)
        if not locked.is_active:
            return locked
        bins = list(Bin.objects.select_for_update().filter(warehouse=locked).order_by("pk"))
        for bin_ in bins:
            bin_.warehouse = locked
        refusals = hooks.bin_deactivation_refusals(bins)
        if refusals:
            raise BinsGuarded(
                ngettext(
                    "Warehouse %(code)s cannot be deactivated while one of its bins "
                    "must stay active.",
                    "Warehouse %(code)s cannot be deactivated while %(count)d of its bins "
                    "must stay active.",
                    len(refusals),
                )
                % {"code": locked.code, "count": len(refusals)},
                refusals=refusals,
            )
        locked.is_active = False
        locked.save(update_fields=["is_active"])
    return locked


def warehouse_reactivate(*, warehouse: Warehouse) -> Warehouse:
    """Use a warehouse again. Locks its row; reactivating an active warehouse changes nothing."""
    with transaction.atomic():
        locked = Warehouse.objects.select_for_update(no_key=True).get(pk=warehouse.pk)
        if not locked.is_active:
            locked.is_active = True
            locked.save(update_fields=["is_active"])
    return locked


# --- zones ----------------------------------------------------------------------------------


def zone_create(*, warehouse: Warehouse, code: str, name: str, type: str) -> Zone:
    """Add a picking or storage zone to a warehouse.

    Raises DuplicateCode when the warehouse already has a zone with that code, InvalidInput for a
    blank or malformed code or name, or an unknown type.
    """
    zone = Zone(warehouse=warehouse, code=_text(code), name=_text(name), type=_text(type))
    _validate_fields(zone, exclude=("warehouse",))
    with transaction.atomic():
        if error := _zone_code_taken(warehouse, zone.code):
            raise error
        _save(zone, conflict=lambda: _zone_code_taken(warehouse, zone.code))
    return zone


def zone_update(*, zone: Zone, code: str, name: str, type: str) -> Zone:
    """Rename, recode or retype a zone (it stays in its warehouse). Locks the zone row.

    Raises the same errors as ``zone_create``.
    """
    with transaction.atomic():
        locked = (
            Zone.objects.select_for_update(no_key=True, of=("self",))
            .select_related("warehouse")
            .get(pk=zone.pk)
        )
        locked.code = _text(code)
        locked.name = _text(name)
        locked.type = _text(type)
        _validate_fields(locked, exclude=("warehouse",))
        if error := _zone_code_taken(locked.warehouse, locked.code, exclude_pk=locked.pk):
            raise error
        _save(
            locked,
            conflict=lambda: _zone_code_taken(locked.warehouse, locked.code, exclude_pk=locked.pk),
        )
    return locked


# --- bins -----------------------------------------------------------------------------------


def bin_create(*, warehouse: Warehouse, zone: Zone, code: str, is_active: bool = True) -> Bin:
    """Add a bin to a zone of a warehouse.

    Raises ZoneOfAnotherWarehouse when ``zone`` is not in ``warehouse``, DuplicateCode when the
    warehouse already has a bin with that code, InvalidInput for a blank or malformed code.
    """
    _check_zone_in_warehouse(zone=zone, warehouse=warehouse)
    bin_ = Bin(warehouse=warehouse, zone=zone, code=_text(code), is_active=is_active)
    _validate_fields(bin_, exclude=("warehouse", "zone"))
    with transaction.atomic():
        if error := _bin_code_taken(warehouse, bin_.code):
            raise error
        _save(bin_, conflict=lambda: _bin_code_taken(warehouse, bin_.code))
    return bin_


def bin_update(*, bin: Bin, zone: Zone, code: str) -> Bin:
    """Move a bin to another zone of its warehouse and/or recode it. Locks the bin row.

    Raises ZoneOfAnotherWarehouse, DuplicateCode or InvalidInput as ``bin_create`` does.
    """
    with transaction.atomic():
        locked = (
            Bin.objects.select_for_update(of=("self",))
            .select_related("warehouse", "zone")
            .get(pk=bin.pk)
        )
        _check_zone_in_warehouse(zone=zone, warehouse=locked.warehouse)
        locked.zone = zone
        locked.code = _text(code)
        _validate_fields(locked, exclude=("warehouse", "zone"))
        if error := _bin_code_taken(locked.warehouse, locked.code, exclude_pk=locked.pk):
            raise error
        _save(
            locked,
            conflict=lambda: _bin_code_taken(locked.warehouse, locked.code, exclude_pk=locked.pk),
        )
    return locked


def bin_deactivate_many(*, bins: list[Bin]) -> list[Bin]:
    """Deactivate bins, all or none.

    Locks the bin rows in primary-key order (``FOR UPDATE OF`` the bins only), then asks every
    bin deactivation guard (``warehouses.hooks``) inside this transaction; raises BinsGuarded
    with the guards' reasons, changing nothing, when any bin must stay active. Already inactive
    bins are left as they are. Returns the locked bins, in primary-key order.
    """
    pks = sorted({b.pk for b in bins})
    with transaction.atomic():
        locked = list(
            Bin.objects.select_for_update(of=("self",))
            .select_related("warehouse", "zone")
            .filter(pk__in=pks)
            .order_by("pk")
        )
        to_deactivate = [b for b in locked if b.is_active]
        refusals = hooks.bin_deactivation_refusals(to_deactivate)
        if refusals:
            codes = ", ".join(b.code for b in to_deactivate if b.pk in refusals)
            raise BinsGuarded(
                _("These bins must stay active: %(codes)s.") % {"codes": codes},
                refusals=refusals,
            )
        if to_deactivate:
            Bin.objects.filter(pk__in=[b.pk for b in to_deactivate]).update(is_active=False)
            for b in to_deactivate:
                b.is_active = False
    return locked


def bin_deactivate(*, bin: Bin) -> Bin:
    """Deactivate one bin; see ``bin_deactivate_many`` for the locks and the guards."""
    return bin_deactivate_many(bins=[bin])[0]


def bin_reactivate_many(*, bins: list[Bin]) -> list[Bin]:
    """Make bins usable again. Locks them in primary-key order; returns them in that order."""
    pks = sorted({b.pk for b in bins})
    with transaction.atomic():
        locked = list(
            Bin.objects.select_for_update(of=("self",))
            .select_related("warehouse", "zone")
            .filter(pk__in=pks)
            .order_by("pk")
        )
        Bin.objects.filter(pk__in=[b.pk for b in locked if not b.is_active]).update(is_active=True)
        for b in locked:
            b.is_active = True
    return locked


def bin_reactivate(*, bin: Bin) -> Bin:
    """Make one bin usable again."""
    return bin_reactivate_many(bins=[bin])[0]
