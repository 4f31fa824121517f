"""The demo loader makes rules and freezes through the services, and adds nothing twice."""

import io

import pytest
from django.core.management import call_command

from freezes.models import Freeze, FreezeRule, ReleaseRequest


@pytest.mark.django_db
def test_the_demo_loads_rules_and_freezes_once():
    # given / when
    call_command("wms_demo", stdout=io.StringIO())
    counts = (Freeze.objects.count(), FreezeRule.objects.count(), ReleaseRequest.objects.count())
    call_command("wms_demo", stdout=io.StringIO())

    # then
    assert FreezeRule.objects.filter(is_active=True).count() == 1
    assert counts[1] == 2
    assert counts[0] >= 1 and counts[2] >= 1
    assert (
        Freeze.objects.count(),
        FreezeRule.objects.count(),
        ReleaseRequest.objects.count(),
    ) == counts
