"""Rule forms show only what applies (a near-expiry rule never asks for a release time), and
switching a rule off asks first."""

import pytest
from django.urls import reverse

from freezes.models import FreezeRule, Reason
from freezes.services.rules import rule_create, rule_set_active

pytestmark = pytest.mark.django_db


def _rule(user, kind, **kwargs):
    rule = rule_create(
        operator=user, name=f"{kind} rule", kind=kind, reason=Reason.QC_HOLD, **kwargs
    )
    return rule_set_active(rule=rule, operator=user, active=True)


def test_a_near_expiry_rule_is_not_asked_for_a_release_time(client, make_user):
    # given
    manager = make_user("manager")
    rule = _rule(manager, FreezeRule.Kind.NEAR_EXPIRY, days_to_expiry=30)
    client.force_login(manager)

    # when
    form = client.get(reverse("freezes:rule-edit", args=[rule.pk])).context["form"]

    # then: no release time, and no "at a set time" release
    assert "release_at" not in form.fields
    assert "at_time" not in dict(form.fields["release_mode"].choices)
    assert "days_to_expiry" in form.fields


def test_a_returns_rule_is_not_asked_for_days_before_expiry(client, make_user):
    manager = make_user("manager")
    rule = _rule(manager, FreezeRule.Kind.SALES_RETURN)
    client.force_login(manager)

    form = client.get(reverse("freezes:rule-edit", args=[rule.pk])).context["form"]

    assert "days_to_expiry" not in form.fields and "release_at" in form.fields


def test_the_new_rule_form_shows_each_conditional_field_only_when_it_applies(client, make_user):
    # given
    client.force_login(make_user("manager"))

    # when
    page = client.get(reverse("freezes:rule-create")).content.decode()

    # then: the browser hides them until the kind or the release mode asks for them
    assert 'data-show-if="kind=near_expiry"' in page
    assert 'data-show-if="release_mode=at_time;kind!=near_expiry"' in page


def test_a_near_expiry_rule_released_at_a_set_time_is_refused(client, make_user):
    # given
    client.force_login(make_user("manager"))

    # when
    response = client.post(
        reverse("freezes:rule-create"),
        {
            "name": "Near expiry",
            "kind": "near_expiry",
            "reason": Reason.NEAR_EXPIRY,
            "days_to_expiry": 30,
            "release_mode": "at_time",
            "release_at": "2099-01-01T10:00",
        },
    )

    # then
    assert response.status_code == 422
    assert "not released at a set time" in response.content.decode()
    assert not FreezeRule.objects.exists()


def test_a_value_typed_in_a_hidden_field_is_ignored(client, make_user):
    # given: a returns rule with a leftover days-before-expiry value
    client.force_login(make_user("manager"))

    # when
    client.post(
        reverse("freezes:rule-create"),
        {
            "name": "Returns",
            "kind": "sales_return",
            "reason": Reason.AFTER_SALES_RETURN,
            "days_to_expiry": 30,
            "release_mode": "manual",
            "release_at": "2099-01-01T10:00",
        },
    )

    # then
    rule = FreezeRule.objects.get()
    assert (rule.days_to_expiry, rule.release_at) == (None, None)


def test_switching_a_rule_off_asks_first(client, make_user):
    # given
    manager = make_user("manager")
    rule = _rule(manager, FreezeRule.Kind.SALES_RETURN)
    client.force_login(manager)
    url = reverse("freezes:rule-deactivate", args=[rule.pk])

    # when: the list's link opens the question
    listing = client.get(reverse("freezes:rule-list")).content.decode()
    question = client.get(url)

    # then: nothing changed yet
    assert f'href="{url}"' in listing
    assert question.status_code == 200
    assert "no longer be frozen by this rule" in question.content.decode()
    rule.refresh_from_db()
    assert rule.is_active

    # when: confirmed
    client.post(url)

    # then
    rule.refresh_from_db()
    assert not rule.is_active
