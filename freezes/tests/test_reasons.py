"""Freeze postings store reason codes; screens show labels (``inventory.reasons``)."""

import datetime

from django.utils import timezone, translation

from freezes.models import Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import freezes_release_due
from freezes.tests.conftest import receive
from inventory.models import StockMovement

Kind = StockMovement.Kind


def test_an_automatic_release_stores_codes_not_translated_text(world, make_user):
    # given: made and released while the active language is Chinese
    now = timezone.now()
    receive(world.phone, world.bin, 10)
    with translation.override("zh-hans"):
        freeze_create(
            scope=Scope(goods_id=world.phone.pk),
            quantity=4,
            reason=Reason.PRESALE_RESERVE,
            release_at=now + datetime.timedelta(hours=1),
            operator=make_user("manager"),
            now=now,
        )

        # when
        freezes_release_due(now=now + datetime.timedelta(hours=2))

    # then
    released = StockMovement.objects.get(kind=Kind.UNFREEZE)
    assert released.reason == "presale_reserve: auto_release"
    assert released.reason_display == "Presale reserve: automatic release"
    with translation.override("zh-hans"):
        assert "自动解冻" in released.reason_display
