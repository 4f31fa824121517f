"""A policy's day counts are bounded: a typo such as a lookback of a million days is refused
when the policy is saved, instead of breaking every grab screen and close that uses it."""

import pytest
from django.urls import reverse

from allocation.forms import PolicyForm
from allocation.models import Policy

pytestmark = pytest.mark.django_db


def _data(policy, **changes):
    data = {
        "name": policy.name,
        "priority": policy.priority,
        "lookback_days": policy.lookback_days,
        "share": policy.share,
        "cycle": policy.cycle,
        "weekdays": policy.weekdays,
        "min_sales": policy.min_sales,
        "max_days_of_cover": "",
        "max_unreceived_days": "",
        "cap_per_goods": "",
        "cap_per_window": "",
        "is_active": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "field", ["lookback_days", "max_unreceived_days"], ids=["lookback", "unreceived"]
)
def test_a_policy_with_a_million_days_is_refused_and_grabbing_goes_on(client, world, field):
    # given an open window under the policy
    window = world.open_window()
    client.force_login(world.manager)
    # when the manager types a million days into the policy
    response = client.post(
        reverse("allocation:policy-edit", args=[world.policy.pk]),
        _data(world.policy, **{field: "1000000"}),
    )
    # then the form says so and the policy is unchanged
    assert response.status_code == 422
    assert field in PolicyForm(_data(world.policy, **{field: "1000000"})).errors
    assert getattr(Policy.objects.get(pk=world.policy.pk), field) != 1_000_000
    # and the store manager's grab screen still works
    client.force_login(world.alice)
    assert client.get(reverse("allocation:grab", args=[window.pk])).status_code == 200
