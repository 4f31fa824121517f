"""Auto-freeze rules: editing them, the dry run, switching them on and off, and the daily
near-expiry scan (set-based SQL; the receipt rules act in ``freezes.services.receipts``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from freezes.exceptions import ApprovalRefused
from freezes.locks import lock_freezes
from freezes.models import Freeze, FreezeEvent, FreezeLine, FreezeRule, Reason, ReleaseMode
from freezes.services import common
from freezes.services.freezing import (
    APPROVE_PERMISSION,
    check_release_horizon,
    freeze_everything_available,
)
from inventory.exceptions import InvalidInput
from inventory.models import Batch, Goods, StockBalance, StockMovement
from inventory.selectors.goods import category_descendant_ids

Kind = StockMovement.Kind

#: How far back a receipt rule's dry run looks for receipts it would have frozen.
DRY_RUN_DAYS = 30
#: Rows a dry run lists (its totals cover everything).
DRY_RUN_ROWS = 50


@dataclass
class DryRun:
    """What a rule would freeze now: ``balances`` rows holding ``units`` units (near expiry), or
    for a receipt rule what it would have frozen of the last ``DRY_RUN_DAYS`` days of receipts
    (``receipts`` movements). ``rows`` are the first ones, for the screen: each holds its
    ``balance`` (near expiry) or ``movement`` (receipt rules), that same row as ``item`` (goods,
    warehouse, bin, batch), and its ``units``."""

    balances: int = 0
    units: int = 0
    receipts: int = 0
    acts_on_receipt: bool = False
    rows: list[dict] = field(default_factory=list)


def _clean(
    *,
    name: str,
    kind: str,
    reason: str,
    categories: list,
    days_to_expiry: int | None,
    release_mode: str,
    release_at: datetime.datetime | None,
    now: datetime.datetime,
) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the rule a name."))
    if kind not in FreezeRule.Kind.values:
        raise InvalidInput(_("Choose what the rule does."))
    if reason not in Reason.values:
        raise InvalidInput(_("Choose the reason the rule freezes with."))
    if kind == FreezeRule.Kind.NEAR_EXPIRY and (days_to_expiry is None or days_to_expiry > 3650):
        raise InvalidInput(_("Say within how many days of expiry (0 to 3650) batches freeze."))
    if kind == FreezeRule.Kind.CATEGORY_ARRIVAL and not categories:
        raise InvalidInput(_("Choose the categories whose arrivals are frozen until QC."))
    if release_mode not in ReleaseMode.values:
        raise InvalidInput(_("Choose how the frozen stock is released."))
    if release_mode == ReleaseMode.AT_TIME and (release_at is None or release_at <= now):
        raise InvalidInput(_("Give a release time in the future."))
    if release_mode == ReleaseMode.AT_TIME:
        check_release_horizon(release_at, now)
    return name


def _lock_rule(rule: FreezeRule) -> FreezeRule:
    """Lock a rule ``FOR NO KEY UPDATE``: receipts creating a freeze of the rule take ``KEY
    SHARE`` on it (the foreign key) while holding balance locks, and must never wait for this."""
    return FreezeRule.objects.select_for_update(no_key=True).get(pk=rule.pk)


def rule_create(
    *,
    operator,
    name: str,
    kind: str,
    reason: str,
    categories: list | None = None,
    warehouse=None,
    days_to_expiry: int | None = None,
    release_mode: str = ReleaseMode.MANUAL,
    release_at: datetime.datetime | None = None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> FreezeRule:
    """Create a rule, switched off (it is switched on after a dry run). Raises
    ``InvalidInput``."""
    now = now or timezone.now()
    categories = list(categories or [])
    name = _clean(
        name=name,
        kind=kind,
        reason=reason,
        categories=categories,
        days_to_expiry=days_to_expiry,
        release_mode=release_mode,
        release_at=release_at,
        now=now,
    )
    with transaction.atomic():
        rule = FreezeRule.objects.create(
            name=name,
            kind=kind,
            reason=reason,
            warehouse=warehouse,
            days_to_expiry=days_to_expiry if kind == FreezeRule.Kind.NEAR_EXPIRY else None,
            release_mode=release_mode,
            release_at=release_at if release_mode == ReleaseMode.AT_TIME else None,
            note=(note or "").strip(),
            created_by=operator,
            created_at=now,
            updated_at=now,
        )
        rule.categories.set(categories)
    return rule


def rule_update(
    *,
    rule: FreezeRule,
    operator,
    name: str,
    reason: str,
    categories: list | None = None,
    warehouse=None,
    days_to_expiry: int | None = None,
    release_mode: str = ReleaseMode.MANUAL,
    release_at: datetime.datetime | None = None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> FreezeRule:
    """Change a rule (its kind stays). A new release time also moves the release time of the
    rule's active freezes (a rule that stops releasing at a time takes theirs away), each with
    an ``updated`` event naming the operator and the rule;
    bringing one of them forward (or giving it one) needs the approve permission, as on a
    freeze (``freezing.check_release_change``). Raises ``InvalidInput``, ``ApprovalRefused``.
    Locks the rule row, then the moved freezes in primary-key order; then catches up with
    receipts that were freezing for the rule with its old time (``_catch_up_release``), in
    transactions of their own."""
    now = now or timezone.now()
    categories = list(categories or [])
    name = _clean(
        name=name,
        kind=rule.kind,
        reason=reason,
        categories=categories,
        days_to_expiry=days_to_expiry,
        release_mode=release_mode,
        release_at=release_at,
        now=now,
    )
    with transaction.atomic():
        locked = _lock_rule(rule)
        was_timed = locked.release_mode == ReleaseMode.AT_TIME
        locked.name = name
        locked.reason = reason
        locked.warehouse = warehouse
        locked.days_to_expiry = (
            days_to_expiry if locked.kind == FreezeRule.Kind.NEAR_EXPIRY else None
        )
        locked.release_mode = release_mode
        locked.release_at = release_at if release_mode == ReleaseMode.AT_TIME else None
        locked.note = (note or "").strip()
        locked.updated_at = now
        locked.save()
        locked.categories.set(categories)
        if locked.release_mode == ReleaseMode.AT_TIME:
            moved = Freeze.objects.active().filter(rule=locked)
            sooner = moved.filter(Q(release_at=None) | Q(release_at__gt=locked.release_at))
            if not operator.has_perm(APPROVE_PERMISSION) and sooner.exists():
                raise ApprovalRefused(
                    _(
                        "This rule's freezes would be released sooner, without a release "
                        "request: that needs the permission to approve releases."
                    )
                )
            _move_release(locked, operator=operator, now=now)
        elif was_timed:
            # No time any more: the rule's freezes stop waiting for the old one (released by a
            # person, or by the QC result); later is never sooner, so no approval is needed.
            _move_release(locked, operator=operator, now=now)
    if locked.release_mode == ReleaseMode.AT_TIME or was_timed:
        _catch_up_release(locked, operator=operator, now=now)
    return locked


def _move_release(rule: FreezeRule, *, operator, now: datetime.datetime) -> None:
    """Give the rule's active freezes the rule's release time, each moved one with an
    ``updated`` event naming the operator and the rule. Locks those freezes in primary-key
    order; runs in the caller's transaction."""
    changing = lock_freezes(
        Freeze.objects.active()
        .filter(rule=rule)
        .exclude(release_at=rule.release_at)
        .values_list("pk", flat=True)
    )
    ids = [pk for pk, freeze in changing.items() if freeze.is_active]
    Freeze.objects.filter(pk__in=ids).update(release_at=rule.release_at)
    for pk in ids:
        common.add_event(
            changing[pk],
            FreezeEvent.Kind.UPDATED,
            actor=operator,
            rule=rule,
            comment="release_at",
            now=now,
        )


def _catch_up_release(rule: FreezeRule, *, operator, now: datetime.datetime) -> None:
    """After a rule's release time changed: a receipt that read the old time (under ``KEY
    SHARE`` on the rule, ``freezes.locks.share_rule``) before the change committed may still be
    creating a freeze with it, unseen by the change. Wait for such receipts by taking the rule
    ``FOR UPDATE`` in a transaction that holds nothing else (receipts hold balance locks, so it
    must not wait for anything a receipt may wait for), then, in another transaction, move the
    freezes they made, unless the rule changed again meanwhile (that change catches up)."""
    with transaction.atomic():
        list(FreezeRule.objects.select_for_update(of=("self",)).filter(pk=rule.pk).values("pk"))
    with transaction.atomic():
        current = _lock_rule(rule)
        if (current.release_mode, current.release_at) != (rule.release_mode, rule.release_at):
            return
        _move_release(current, operator=operator, now=now)


def rule_set_active(
    *, rule: FreezeRule, operator, active: bool, now: datetime.datetime | None = None
) -> FreezeRule:
    """Switch a rule on (after its dry run was shown) or off. Freezes it made stay as they
    are. Raises ``InvalidInput`` when an at-time release is already past. Locks the rule."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_rule(rule)
        if active and locked.release_mode == ReleaseMode.AT_TIME and locked.release_at <= now:
            raise InvalidInput(
                _("This rule's release time has passed: change it before switching it on.")
            )
        locked.is_active = active
        locked.updated_at = now
        if active:
            locked.activated_by = operator
            locked.activated_at = now
        locked.save()
    return locked


# --------------------------------------------------------------------------------------------
# Near expiry: set-based selection
# --------------------------------------------------------------------------------------------


def _rule_categories(rule: FreezeRule) -> list[int]:
    roots = list(rule.categories.values_list("pk", flat=True))
    return sorted(category_descendant_ids(roots)) if roots else []


def near_expiry_candidates_sql(rule: FreezeRule, today: datetime.date) -> tuple[str, list]:
    """SQL selecting ``(balance id, available)`` of the balances the near-expiry rule would
    freeze: batches expiring on or before ``today + days`` (expired ones too) in the rule's
    categories and warehouse, with units available, that this rule never froze before."""
    q = connection.ops.quote_name
    balance = q(StockBalance._meta.db_table)
    batch = q(Batch._meta.db_table)
    goods = q(Goods._meta.db_table)
    line = q(FreezeLine._meta.db_table)
    freeze = q(Freeze._meta.db_table)
    params: list = [today + datetime.timedelta(days=rule.days_to_expiry or 0)]
    where = [
        "bt.expiry_date <= %s",
        "b.on_hand - b.frozen - b.reserved > 0",
    ]
    joins = f"JOIN {batch} bt ON bt.id = b.batch_id"
    categories = _rule_categories(rule)
    if categories:
        joins += f" JOIN {goods} g ON g.id = b.goods_id"
        if connection.vendor == "postgresql":
            where.append("g.category_id = ANY(%s)")
            params.append(categories)
        else:
            where.append(f"g.category_id IN ({', '.join(['%s'] * len(categories))})")
            params.extend(categories)
    if rule.warehouse_id is not None:
        where.append("b.warehouse_id = %s")
        params.append(rule.warehouse_id)
    where.append(
        f"NOT EXISTS (SELECT 1 FROM {line} l JOIN {freeze} f ON f.id = l.freeze_id "
        f"WHERE l.balance_id = b.id AND f.rule_id = %s)"
    )
    params.append(rule.pk)
    sql = (
        f"SELECT b.id AS id, b.on_hand - b.frozen - b.reserved AS available "
        f"FROM {balance} b {joins} "
        f"WHERE {' AND '.join(where)} ORDER BY b.id"
    )
    return sql, params


def near_expiry_scan(
    *,
    rule: FreezeRule,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Freeze | None:
    """Freeze everything available on the balances the near-expiry ``rule`` selects (one
    set-based query), as one freeze of the rule: set-based ledger postings
    (``ledger.freeze_all_available``) per chunk of balances, the lines written with one
    ``INSERT ... SELECT`` from the freeze's movements, one ``created`` event. A balance this rule ever froze is never frozen by it again. Returns the freeze, or
    None when nothing matched. Locks the balances in primary-key order (ascending chunks)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if rule.kind != FreezeRule.Kind.NEAR_EXPIRY:
        raise InvalidInput(_("Only near-expiry rules scan the stock."))
    sql, params = near_expiry_candidates_sql(rule, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return None
    with transaction.atomic():
        freeze = Freeze.objects.create(
            reason=rule.reason,
            note=_("Near expiry: within %(days)s days on %(date)s")
            % {"days": rule.days_to_expiry, "date": today.isoformat()},
            warehouse_id=rule.warehouse_id,
            rule=rule,
            source_ref=f"near-expiry {today.isoformat()}",
            release_on_qc_pass=rule.release_mode == ReleaseMode.ON_QC_PASS,
            release_at=rule.release_at if rule.release_mode == ReleaseMode.AT_TIME else None,
            created_at=now,
        )
        movements = freeze_everything_available(
            freeze, ids, operator=None, reason=common.ledger_reason(freeze, rule.name)
        )
        if not movements:
            transaction.set_rollback(True)
            return None
        units = common.insert_lines_from_movements(freeze, now=now)
        common.add_event(
            freeze,
            FreezeEvent.Kind.CREATED,
            rule=rule,
            quantity=units,
            comment=rule.name,
            document_ref=freeze.source_ref,
            now=now,
        )
    return freeze


def near_expiry_scan_all(*, today: datetime.date | None = None) -> list[Freeze]:
    """Run every switched-on near-expiry rule once (the daily beat task)."""
    out = []
    for rule in FreezeRule.objects.filter(is_active=True, kind=FreezeRule.Kind.NEAR_EXPIRY):
        freeze = near_expiry_scan(rule=rule, today=today)
        if freeze is not None:
            out.append(freeze)
    return out


# --------------------------------------------------------------------------------------------
# Dry run
# --------------------------------------------------------------------------------------------


def rule_dry_run(
    rule: FreezeRule,
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> DryRun:
    """What the rule would freeze now, without writing anything. Near expiry: the balances
    and units the scan would freeze today. Receipt rules act on future receipts; their dry run
    shows what they would have frozen of the last ``DRY_RUN_DAYS`` days of receipts."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if rule.kind == FreezeRule.Kind.NEAR_EXPIRY:
        sql, params = near_expiry_candidates_sql(rule, today)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), COALESCE(SUM(c.available), 0) FROM ({sql}) AS c",
                params,
            )
            balances, units = cursor.fetchone()
            cursor.execute(
                f"SELECT c.id, c.available FROM ({sql}) AS c LIMIT %s",
                [*params, DRY_RUN_ROWS],
            )
            sample = dict(cursor.fetchall())
        rows = list(
            StockBalance.objects.filter(pk__in=sorted(sample))
            .select_related("goods", "warehouse", "bin", "batch")
            .order_by("batch__expiry_date", "pk")
        )
        return DryRun(
            balances=balances,
            units=int(units),
            rows=[{"balance": row, "item": row, "units": sample[row.pk]} for row in rows],
        )
    kinds = [Kind.INBOUND_SALES_RETURN]
    if rule.kind == FreezeRule.Kind.CATEGORY_ARRIVAL:
        kinds.append(Kind.INBOUND_PURCHASE)
    receipts = StockMovement.objects.filter(
        kind__in=kinds, created_at__gte=now - datetime.timedelta(days=DRY_RUN_DAYS)
    )
    if rule.warehouse_id is not None:
        receipts = receipts.filter(warehouse_id=rule.warehouse_id)
    categories = _rule_categories(rule)
    if categories:
        receipts = receipts.filter(goods__category_id__in=categories)
    totals = receipts.aggregate(
        receipts=Count("pk"), balances=Count("balance_id", distinct=True), units=Sum("quantity")
    )
    rows = list(
        receipts.select_related("goods", "warehouse", "bin", "batch").order_by(
            "-created_at", "-pk"
        )[:DRY_RUN_ROWS]
    )
    return DryRun(
        balances=totals["balances"] or 0,
        units=totals["units"] or 0,
        receipts=totals["receipts"] or 0,
        acts_on_receipt=True,
        rows=[{"movement": row, "item": row, "units": row.quantity} for row in rows],
    )


def rules_matching_filter() -> Q:
    """Rules that act on receipts and are switched on."""
    return Q(
        is_active=True,
        kind__in=[FreezeRule.Kind.SALES_RETURN, FreezeRule.Kind.CATEGORY_ARRIVAL],
    )
