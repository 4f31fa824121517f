import pytest
from django.urls import reverse

from warehouses import hooks, services
from warehouses.exceptions import BinsGuarded
from warehouses.tests.factories import BinFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guard_calls():
    """A registered guard refusing bins whose code starts with "FULL"; unregistered after."""
    calls: list[list] = []

    def holds_stock(bins):
        calls.append(list(bins))
        return {
            b.pk: f"bin {b.code} still holds 12 units" for b in bins if b.code.startswith("FULL")
        }

    hooks.register_bin_deactivation_guard(holds_stock)
    yield calls
    hooks.unregister_bin_deactivation_guard(holds_stock)
    assert holds_stock not in hooks.bin_deactivation_guards


@pytest.fixture
def provider_calls():
    """A registered contents provider; unregistered after."""
    calls: list[list[int]] = []

    def stock_in_bins(bin_ids, *, user):
        calls.append(list(bin_ids))
        return {bin_id: {"SKU-1 Phone": 12, "SKU-2 Case": 3} for bin_id in bin_ids[:1]}

    hooks.register_bin_contents_provider(stock_in_bins)
    yield calls
    hooks.unregister_bin_contents_provider(stock_in_bins)
    assert stock_in_bins not in hooks.bin_contents_providers


def test_bin_deactivate_refuses_with_the_guard_message_and_changes_nothing(guard_calls):
    # given
    bin_ = BinFactory(code="FULL-01")

    # when
    with pytest.raises(BinsGuarded) as refused:
        services.bin_deactivate(bin=bin_)

    # then
    assert refused.value.refusals == {bin_.pk: "bin FULL-01 still holds 12 units"}
    assert "FULL-01" in refused.value.message
    bin_.refresh_from_db()
    assert bin_.is_active is True
    assert [[b.pk for b in call] for call in guard_calls] == [[bin_.pk]]


def test_bin_deactivate_passes_when_the_guard_has_no_objection(guard_calls):
    # given
    bin_ = BinFactory(code="EMPTY-01")

    # when
    services.bin_deactivate(bin=bin_)

    # then
    bin_.refresh_from_db()
    assert bin_.is_active is False
    assert len(guard_calls) == 1


def test_bin_deactivate_many_is_all_or_nothing_and_asks_the_guard_once(guard_calls):
    # given
    empty = BinFactory(code="EMPTY-01")
    full = BinFactory(code="FULL-01", zone=empty.zone)

    # when
    with pytest.raises(BinsGuarded):
        services.bin_deactivate_many(bins=[full, empty])

    # then
    empty.refresh_from_db()
    full.refresh_from_db()
    assert (empty.is_active, full.is_active) == (True, True)
    assert [[b.pk for b in call] for call in guard_calls] == [sorted([empty.pk, full.pk])]


def test_warehouse_deactivate_refuses_when_any_of_its_bins_is_guarded(guard_calls):
    # given
    empty = BinFactory(code="EMPTY-01")
    BinFactory(code="FULL-07", zone=empty.zone)
    warehouse = empty.warehouse

    # when
    with pytest.raises(BinsGuarded) as refused:
        services.warehouse_deactivate(warehouse=warehouse)

    # then
    assert list(refused.value.refusals.values()) == ["bin FULL-07 still holds 12 units"]
    warehouse.refresh_from_db()
    assert warehouse.is_active is True
    assert sorted(b.code for b in guard_calls[0]) == ["EMPTY-01", "FULL-07"]


def test_several_guards_reasons_for_one_bin_are_joined():
    # given
    bin_ = BinFactory(code="A-01")

    def reserved(bins):
        return {b.pk: "reserved for order 42" for b in bins}

    def frozen(bins):
        return {b.pk: "2 units frozen for QC" for b in bins}

    hooks.register_bin_deactivation_guard(reserved)
    hooks.register_bin_deactivation_guard(frozen)
    try:
        # when
        with pytest.raises(BinsGuarded) as refused:
            services.bin_deactivate(bin=bin_)
    finally:
        hooks.unregister_bin_deactivation_guard(reserved)
        hooks.unregister_bin_deactivation_guard(frozen)

    # then
    assert refused.value.refusals == {bin_.pk: "reserved for order 42; 2 units frozen for QC"}


def test_registering_a_guard_twice_keeps_one_entry():
    def guard(bins):
        return {}

    try:
        hooks.register_bin_deactivation_guard(guard)
        hooks.register_bin_deactivation_guard(guard)
        assert hooks.bin_deactivation_guards.count(guard) == 1
    finally:
        hooks.unregister_bin_deactivation_guard(guard)


def test_the_bin_deactivate_screen_shows_the_guard_refusal(client, make_user, guard_calls):
    # given
    client.force_login(make_user("staff"))
    bin_ = BinFactory(code="FULL-03")

    # when
    response = client.post(reverse("warehouses:bin-deactivate", args=[bin_.pk]))

    # then
    assert response.status_code == 409
    assert "bin FULL-03 still holds 12 units" in response.content.decode()
    bin_.refresh_from_db()
    assert bin_.is_active is True


def test_bin_lookup_shows_provider_contents_from_one_call_per_page(
    client, make_user, provider_calls
):
    # given
    client.force_login(make_user("staff"))
    warehouse = WarehouseFactory(code="SYD-01")
    first = BinFactory(code="A-01", zone__warehouse=warehouse)
    second = BinFactory(code="A-02", zone=first.zone)

    # when
    response = client.get(reverse("warehouses:bin-lookup"), {"code": "a-0"})

    # then
    assert response.status_code == 200
    assert provider_calls == [[first.pk, second.pk]]
    html = response.content.decode()
    assert "Contents" in html
    assert "<dt>SKU-1 Phone</dt><dd>12</dd>" in html
    assert "<dt>SKU-2 Case</dt><dd>3</dd>" in html


def test_bin_lookup_contents_are_empty_without_a_provider(client, make_user, monkeypatch):
    # given: no provider at all (other apps register theirs when they are installed)
    monkeypatch.setattr(hooks, "bin_contents_providers", [])
    client.force_login(make_user("staff"))
    BinFactory(code="A-01")

    # when
    response = client.get(reverse("warehouses:bin-lookup"))

    # then
    assert response.status_code == 200
    assert response.context["rows"][0][1] == []
    assert '<dl class="pairs">' not in response.content.decode()
