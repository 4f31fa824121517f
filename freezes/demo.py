"""Demo freezes: auto-freeze rules and a few freezes on the demo stock, made through the same
services as the screens. Idempotent: rules are found by name, freezes by their idempotency key
(``demo-freeze-...``), so a second run adds nothing.

Needs the demo users (wms.demo) and demo stock (inventory.demo_stock); without stock it only
creates the rules.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from freezes.models import Freeze, FreezeRule, Reason, ReleaseMode
from freezes.scope import Scope
from freezes.services import freezing, release, rules
from inventory.exceptions import StockError
from inventory.models import StockBalance


def _user(username: str):
    users = get_user_model().objects
    return users.filter(username=username).first() or users.filter(is_superuser=True).first()


def _rules(manager) -> int:
    made = 0
    wanted = [
        {
            "name": "Freeze sales returns on receipt",
            "kind": FreezeRule.Kind.SALES_RETURN,
            "reason": Reason.AFTER_SALES_RETURN,
            "active": True,
        },
        {
            "name": "Near expiry: 30 days",
            "kind": FreezeRule.Kind.NEAR_EXPIRY,
            "reason": Reason.NEAR_EXPIRY,
            "days_to_expiry": 30,
            "active": False,
        },
    ]
    for spec in wanted:
        active = spec.pop("active")
        if FreezeRule.objects.filter(name=spec["name"]).exists():
            continue
        rule = rules.rule_create(operator=manager, release_mode=ReleaseMode.MANUAL, **spec)
        if active:
            rules.rule_set_active(rule=rule, operator=manager, active=True)
        made += 1
    return made


def _freezes(clerk, manager) -> int:
    balances = list(
        StockBalance.objects.filter(on_hand__gt=2, frozen=0, reserved=0)
        .select_related("goods")
        .order_by("goods__sku", "pk")[:3]
    )
    made = 0
    plans = [
        ("demo-freeze-qc", Reason.QC_HOLD, "Spot check: torn packaging", None, False),
        ("demo-freeze-presale", Reason.PRESALE_RESERVE, "Reserved for the presale", 2, True),
        ("demo-freeze-complaint", Reason.CUSTOMER_COMPLAINT, "Customer complaint", 1, False),
    ]
    for balance, (key, reason, note, quantity, timed) in zip(balances, plans, strict=False):
        if Freeze.objects.filter(idempotency_key=key).exists():
            continue
        try:
            freeze = freezing.freeze_create(
                scope=Scope(goods_id=balance.goods_id, bin_id=balance.bin_id),
                reason=reason,
                note=note,
                quantity=quantity,
                release_at=timezone.now() + datetime.timedelta(days=7) if timed else None,
                operator=clerk,
                idempotency_key=key,
            )
        except StockError:
            continue
        made += 1
        if reason == Reason.QC_HOLD:
            release.release_request_create(
                freeze=freeze, requester=clerk, reason="Rechecked: packaging is fine"
            )
    return made


def load() -> list[str]:
    clerk, manager = _user("staff"), _user("manager")
    if clerk is None or manager is None:
        return ["freezes: skipped (needs the demo users first)"]
    made_rules = _rules(manager)
    made_freezes = _freezes(clerk, manager)
    return [f"freeze rules created: {made_rules}", f"freezes created: {made_freezes}"]
