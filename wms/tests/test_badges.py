"""Status badges coloured from the TextChoices (``wms.choices``), one partial for every screen."""

import pytest
from django.db import models
from django.template import Context, Template

from freezes.models import Freeze, Reason
from inventory.models import ImportJob, InboundSheet, StockTransfer
from warehouses.models import Warehouse
from wms.choices import ActiveState, badge_colour, badges, choices_of


def _render(obj, field):
    return Template("{% load wms_tags %}{% status_badge obj field %}").render(
        Context({"obj": obj, "field": field})
    )


def test_each_status_field_finds_its_choices_and_colours():
    # given / when / then
    assert choices_of(InboundSheet, "status").badge_colours == {"draft": "warn", "posted": "ok"}
    assert choices_of(StockTransfer, "status") is StockTransfer.Status
    assert choices_of(Freeze, "reason") is Reason
    assert choices_of(ImportJob, "status") is ImportJob.Status
    assert badge_colour(Reason, Reason.DAMAGED) == "danger"
    assert badge_colour(Reason, Reason.OTHER) == ""


def test_the_badge_shows_the_translated_label_in_the_declared_colour():
    # given
    sheet = InboundSheet(status="posted")
    transfer = StockTransfer(status="in_transit")
    freeze = Freeze(reason=Reason.QC_HOLD, status=Freeze.Status.CLOSED)

    # when / then
    assert _render(sheet, "status") == '<span class="badge ok status-posted">Posted</span>\n'
    assert 'class="badge in-transit status-in_transit">In transit<' in _render(transfer, "status")
    assert 'class="badge warn reason-qc_hold">QC hold<' in _render(freeze, "reason")
    assert 'class="badge off status-closed">Closed<' in _render(freeze, "status")


@pytest.mark.parametrize(
    ("active", "colour", "label"), [(True, "ok", "Active"), (False, "off", "Inactive")]
)
def test_a_boolean_reads_active_or_inactive(active, colour, label):
    html = _render(Warehouse(is_active=active), "is_active")
    assert f'class="badge {colour} is-active-{str(active).lower()}">{label}<' in html
    assert ActiveState.ACTIVE.badge_colours["active"] == "ok"


def test_a_typo_in_a_declaration_fails_at_import():
    with pytest.raises(ValueError, match="no value"):

        @badges(drafts="warn")
        class Status(models.TextChoices):
            DRAFT = "draft", "Draft"

    with pytest.raises(ValueError, match="colours"):

        @badges(draft="pink")
        class Other(models.TextChoices):
            DRAFT = "draft", "Draft"
