"""Freeze steps written by the system keep codes in ``FreezeEvent.comment``; the timeline shows
them in the reader's language (``comment_display``), and people's own words as written."""

import pytest
from django.utils import translation

from freezes.models import Freeze, FreezeEvent, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create, freeze_update
from freezes.tests.conftest import receive

pytestmark = pytest.mark.django_db


def _event(kind, comment):
    return FreezeEvent(kind=kind, comment=comment)


@pytest.mark.parametrize(
    ("kind", "comment", "english"),
    [
        (FreezeEvent.Kind.UPDATED, "note, release_at", "note, release automatically at"),
        (FreezeEvent.Kind.QC_RESULT, "fail: torn seal", "Fail: torn seal"),
        (FreezeEvent.Kind.QC_RESULT, "pass", "Pass"),
        (FreezeEvent.Kind.BACK_FROZEN, "OUT-7", "Reversal of OUT-7"),
        (FreezeEvent.Kind.CREATED, "pallet wet, fail: maybe", "pallet wet, fail: maybe"),
        (FreezeEvent.Kind.UPDATED, "", ""),
    ],
)
def test_codes_are_shown_in_english(kind, comment, english):
    with translation.override("en"):
        assert _event(kind, comment).comment_display() == english


def test_codes_are_shown_in_chinese_and_words_as_written():
    with translation.override("zh-hans"):
        updated = _event(FreezeEvent.Kind.UPDATED, "note").comment_display()
        qc = _event(FreezeEvent.Kind.QC_RESULT, "fail: torn seal").comment_display()
        own = _event(FreezeEvent.Kind.CREATED, "note").comment_display()
        label = str(Freeze._meta.get_field("note").verbose_name)
    assert updated == label != "note"
    assert qc.endswith(": torn seal") and not qc.startswith("fail")
    assert own == "note"


def test_the_timeline_shows_a_change_in_the_readers_language(client, world, make_user):
    # given: a freeze whose note was changed
    manager = make_user("manager")
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason=Reason.DAMAGED, operator=manager
    )
    freeze_update(
        freeze=freeze,
        operator=manager,
        note="checked by Li",
        release_at=freeze.release_at,
        release_on_qc_pass=freeze.release_on_qc_pass,
    )
    event = freeze.events.get(kind=FreezeEvent.Kind.UPDATED)
    assert event.comment == "note"
    client.force_login(manager)

    # when: read in Chinese
    page = client.get(f"/freezes/{freeze.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then
    with translation.override("zh-hans"):
        label = str(Freeze._meta.get_field("note").verbose_name)
    assert page.status_code == 200
    assert f'<div class="comment">{label}</div>' in page.content.decode()


def test_the_edit_button_reads_edit_not_quantity_change_in_chinese(client, world, make_user):
    manager = make_user("manager")
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason=Reason.DAMAGED, operator=manager
    )
    client.force_login(manager)
    page = client.get(f"/freezes/{freeze.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'href="/freezes/{freeze.pk}/edit/">编辑</a>' in page  # not 变动 (a quantity change)
