"""Freeze screens: permissions, the preview-then-confirm flow, refusals, reports, exports."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from freezes.models import Freeze, FreezeRule, Reason, ReleaseRequest
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import release_request_create
from freezes.tests.conftest import Kind, receive
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def _form(world, **extra):
    data = {
        "goods": world.snack.sku,
        "batch": world.batch_old.batch_no,
        "reason": Reason.QC_HOLD,
        "note": "spot check",
        "token": "t-1",
    }
    data.update(extra)
    return data


def test_anonymous_users_go_to_the_login_page_and_others_need_the_permission(
    client, world, make_user
):
    # given
    pages = [
        reverse("freezes:freeze-list"),
        reverse("freezes:frozen-stock"),
        reverse("freezes:dashboard"),
        reverse("freezes:release-queue"),
        reverse("freezes:rule-list"),
        reverse("freezes:freeze-create"),
    ]

    # when / then
    for url in pages:
        assert client.get(url).status_code == 302
    _client(client, make_user("store"))
    for url in pages:
        assert client.get(url).status_code == 403


def test_the_clerk_previews_then_confirms_a_freeze_of_a_batch(client, world, make_user):
    # given
    balance = receive(world.snack, world.bin, 30, batch=world.batch_old)
    receive(world.snack, world.bin, 20, batch=world.batch_new)
    _client(client, make_user("staff"))

    # when: preview
    preview = client.post(reverse("freezes:freeze-create"), _form(world, preview="1"))

    # then: rows and quantities, nothing frozen yet
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "30 units would be frozen" in text
    assert world.batch_old.batch_no in text and world.batch_new.batch_no not in text
    assert not Freeze.objects.exists()
    digest = preview.context["digest"]

    # when: confirm
    done = client.post(reverse("freezes:freeze-create"), _form(world, confirm="1", digest=digest))

    # then
    freeze = Freeze.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("freezes:freeze-detail", args=[freeze.pk])
    balance.refresh_from_db()
    assert balance.frozen == 30


def test_confirming_a_changed_selection_shows_the_preview_again(client, world, make_user):
    # given
    receive(world.snack, world.bin, 30, batch=world.batch_old)
    _client(client, make_user("staff"))
    digest = client.post(reverse("freezes:freeze-create"), _form(world, preview="1")).context[
        "digest"
    ]

    # when: the quantity was changed after the preview
    response = client.post(
        reverse("freezes:freeze-create"), _form(world, confirm="1", digest=digest, quantity=5)
    )

    # then
    assert response.status_code == 200
    assert response.context["preview"].to_freeze == 5
    assert not Freeze.objects.exists()


def test_freezing_more_than_available_shows_the_shortfall_and_changes_nothing(
    client, world, make_user
):
    # given
    receive(world.phone, world.bin, 480)
    _client(client, make_user("staff"))
    data = {"goods": "PHONE", "quantity": 500, "reason": Reason.PRESALE_RESERVE, "token": "t"}

    # when
    preview = client.post(reverse("freezes:freeze-create"), {**data, "preview": "1"})
    confirm = client.post(
        reverse("freezes:freeze-create"),
        {**data, "confirm": "1", "digest": preview.context["digest"]},
    )

    # then
    assert "short by 20" in preview.content.decode()
    assert confirm.status_code == 422
    assert "short by 20" in confirm.content.decode()
    assert StockBalance.objects.get().frozen == 0 and not Freeze.objects.exists()


def test_bad_scope_input_gets_a_clear_message(client, world, make_user):
    # given
    receive(world.snack, world.bin, 5)
    _client(client, make_user("staff"))

    # when
    unknown = client.post(
        reverse("freezes:freeze-create"), {"goods": "NOPE", "reason": "qc_hold", "preview": "1"}
    )
    empty = client.post(reverse("freezes:freeze-create"), {"reason": "qc_hold", "preview": "1"})
    nothing = client.post(
        reverse("freezes:freeze-create"), {"goods": "PHONE", "reason": "qc_hold", "preview": "1"}
    )

    # then
    assert unknown.status_code == 422 and "No goods has the SKU NOPE" in unknown.content.decode()
    assert empty.status_code == 422 and "Choose what to freeze" in empty.content.decode()
    assert "Nothing matches this scope" in nothing.content.decode()
    assert not Freeze.objects.exists()


def test_the_freeze_page_shows_lines_timeline_and_actions(client, world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    _client(client, make_user("manager"))

    # when
    response = client.get(reverse("freezes:freeze-detail", args=[freeze.pk]))

    # then
    text = response.content.decode()
    assert response.status_code == 200
    assert freeze.number in text and "Damaged" in text and "staff" in text
    assert reverse("freezes:freeze-ship-out", args=[freeze.pk]) in text
    assert client.get(reverse("freezes:freeze-detail", args=[999999])).status_code == 404


def test_a_clerk_requests_a_release_and_cannot_approve_it_the_manager_does(
    client, world, make_user
):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    _client(client, clerk)

    # when: the clerk asks
    asked = client.post(
        reverse("freezes:release-request", args=[freeze.pk]), {"reason": "QC passed"}
    )
    request = ReleaseRequest.objects.get()

    # then: the clerk has no approve permission
    assert asked.status_code == 302
    denied = client.post(
        reverse("freezes:release-decide", args=[request.pk]),
        {"decision": "approve", "comment": "ok"},
    )
    assert denied.status_code == 403
    balance.refresh_from_db()
    assert balance.frozen == 10

    # when: the manager approves from the queue
    _client(client, manager)
    queue = client.get(reverse("freezes:release-queue"))
    assert freeze.number in queue.content.decode()
    approved = client.post(
        reverse("freezes:release-decide", args=[request.pk]),
        {"decision": "approve", "comment": "fine"},
    )

    # then
    assert approved.status_code == 302
    balance.refresh_from_db()
    assert balance.frozen == 0


def test_a_manager_approving_his_own_request_is_refused_with_a_message(client, world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    request = release_request_create(freeze=freeze, requester=manager, reason="mine")
    _client(client, manager)

    # when
    response = client.post(
        reverse("freezes:release-decide", args=[request.pk]),
        {"decision": "approve", "comment": "ok"},
        follow=True,
    )

    # then
    assert "another approver must decide" in response.content.decode()
    request.refresh_from_db()
    assert request.is_pending
    assert StockBalance.objects.get().frozen == 10


def test_asking_to_release_more_than_is_frozen_is_refused_on_the_screen(client, world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    _client(client, clerk)

    # when
    response = client.post(
        reverse("freezes:release-request", args=[freeze.pk]), {"reason": "x", "quantity": 11}
    )

    # then
    assert response.status_code == 422
    assert "only 10 are frozen" in response.content.decode()
    assert not ReleaseRequest.objects.exists()


def test_only_managers_scrap_frozen_stock(client, world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    url = reverse("freezes:freeze-ship-out", args=[freeze.pk])
    data = {
        "line": freeze.lines.get().pk,
        "quantity": 3,
        "outbound": "scrap",
        "reason": "crushed",
    }

    # when / then
    assert _client(client, clerk).post(url, data).status_code == 403
    assert _client(client, manager).post(url, data).status_code == 302
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (7, 7)


def test_qc_inspectors_record_results_and_staff_cannot(client, world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10, batch=world.batch_old)
    freeze = freeze_create(
        scope=Scope(batch_id=world.batch_old.pk),
        reason="qc_hold",
        release_on_qc_pass=True,
        operator=clerk,
    )
    url = reverse("freezes:inspection-create")
    data = {"goods": world.snack.sku, "batch": world.batch_old.batch_no, "result": "pass"}

    # when / then
    assert _client(client, clerk).post(url, data).status_code == 403
    response = _client(client, make_user("qc")).post(url, data)
    assert response.status_code == 302
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED


def test_editing_a_closed_freeze_is_refused_on_the_screen(client, world, make_user):
    # given
    clerk, qc = make_user("staff"), make_user("qc")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="qc_hold",
        release_on_qc_pass=True,
        operator=clerk,
    )
    _client(client, qc).post(
        reverse("freezes:freeze-inspect", args=[freeze.pk]), {"result": "pass"}
    )

    # when
    response = _client(client, clerk).post(
        reverse("freezes:freeze-edit", args=[freeze.pk]), {"note": "later"}
    )

    # then
    assert response.status_code == 422
    assert "closed" in response.content.decode()
    freeze.refresh_from_db()
    assert freeze.note == ""


def _many_frozen_lines(world, clerk, count):
    for n in range(count):
        goods = GoodsFactory(category=world.snacks, brand=world.brand_x)
        receive(goods, world.bin, 5 + n)
    return freeze_create(scope=Scope(category_id=world.food.pk), reason="qc_hold", operator=clerk)


def test_the_frozen_stock_list_filters_and_uses_a_fixed_number_of_queries(
    client, world, make_user, django_assert_num_queries
):
    # given
    clerk = make_user("staff")
    _many_frozen_lines(world, clerk, 30)
    receive(world.phone, world.bin, 10)
    freeze_create(scope=Scope(goods_id=world.phone.pk), reason="damaged", operator=clerk)
    _client(client, make_user("manager"))
    url = reverse("freezes:frozen-stock")

    # when / then: session, user, permissions, count, rows and the filters' choices,
    # whatever the number of rows
    client.get(url)
    with django_assert_num_queries(11):
        response = client.get(url)
    assert len(response.context["lines"]) == 31
    filtered = client.get(url, {"reason": "damaged"})
    assert [line.goods.sku for line in filtered.context["lines"]] == ["PHONE"]
    by_category = client.get(url, {"category": world.food.pk})
    assert len(by_category.context["lines"]) == 30
    old = client.get(url, {"min_age": 3})
    assert old.context["lines"] == []


def test_the_frozen_stock_list_flags_freezes_held_too_long(client, world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="after_sales_return",
        operator=clerk,
        now=timezone.now() - datetime.timedelta(days=45),
    )
    _client(client, clerk)

    # when
    flagged = client.get(reverse("freezes:frozen-stock"), {"days": 30})
    calm = client.get(reverse("freezes:frozen-stock"), {"days": 60})

    # then
    assert flagged.context["lines"][0].is_ageing
    assert not calm.context["lines"][0].is_ageing


def test_the_export_has_the_filtered_rows_and_neutralises_formulas(client, world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    receive(world.phone, world.bin, 4)
    freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="damaged", note="=cmd()", operator=clerk
    )
    freeze_create(scope=Scope(goods_id=world.phone.pk), reason="qc_hold", operator=clerk)
    _client(client, clerk)

    # when
    response = client.get(reverse("freezes:frozen-stock-export"), {"reason": "damaged"})
    xlsx = client.get(reverse("freezes:frozen-stock-export"), {"format": "xlsx"})

    # then
    assert response.streaming and xlsx.streaming  # streamed like the stock export
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:3] == ["Freeze", "Reason", "SKU"]
    assert len(rows) == 2 and rows[1][2] == "SNACK" and rows[1][10] == "10"
    assert rows[1][-1] == "'=cmd()"
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["SNACK", "PHONE"]
    assert (
        _client(client, make_user("store")).get(reverse("freezes:frozen-stock-export")).status_code
        == 403
    )


def test_the_dashboard_shows_totals_distribution_and_ageing(
    client, world, make_user, django_assert_max_num_queries
):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    receive(world.phone, world.other_bin, 4)
    freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="after_sales_return",
        operator=clerk,
        now=timezone.now() - datetime.timedelta(days=40),
    )
    freeze_create(scope=Scope(goods_id=world.phone.pk), reason="damaged", operator=clerk)
    _client(client, clerk)

    # when
    with django_assert_max_num_queries(16):
        response = client.get(reverse("freezes:dashboard"), {"days": 30})

    # then
    board = response.context["board"]
    assert (board.units, board.balances, board.active_freezes, board.ageing_freezes) == (
        14,
        2,
        2,
        1,
    )
    assert {bar.label: bar.units for bar in board.by_reason} == {
        "After-sales return": 10,
        "Damaged": 4,
    }
    assert [bar.units for bar in board.by_age] == [4, 0, 10, 0]
    assert "<svg" in response.content.decode()


def test_the_balance_holds_fragment_gives_reason_time_and_operator(client, world, make_user):
    # given
    clerk = make_user("staff")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    _client(client, clerk)

    # when
    fragment = client.get(
        reverse("freezes:balance-holds"), {"balance": balance.pk}, HTTP_HX_REQUEST="true"
    )
    page = client.get(reverse("freezes:balance-holds"), {"balance": balance.pk})
    bad = client.get(reverse("freezes:balance-holds"), {"balance": "x"})

    # then
    text = fragment.content.decode()
    assert "<html" not in text
    assert freeze.number in text and "Damaged" in text and "staff" in text
    assert "Freeze and release history" in page.content.decode()
    assert bad.status_code == 422


def test_the_stock_query_loads_reason_time_and_operator_for_each_frozen_row(
    client, world, make_user
):
    # given
    clerk = make_user("staff")
    frozen = receive(world.snack, world.bin, 10)
    freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    _client(client, clerk)
    holds_url = reverse("freezes:balance-holds") + f"?balance={frozen.pk}"

    # when
    page = client.get(reverse("inventory:stock-query")).content.decode()
    fragment = client.get(holds_url, HTTP_HX_REQUEST="true").content.decode()

    # then: the frozen cell is blue, links to its freezes and fetches who froze it and why
    assert f'hx-get="{holds_url}"' in page.replace("&amp;", "&")
    assert 'class="frozen"' in page
    assert "Damaged" in fragment and "staff" in fragment


def test_frozen_links_point_each_balance_at_its_holds_page(world, make_user):
    # given
    from inventory import hooks

    # when
    links = hooks.frozen_links([5, 7], user=make_user("staff"))

    # then
    assert links == {
        5: reverse("freezes:balance-holds") + "?balance=5",
        7: reverse("freezes:balance-holds") + "?balance=7",
    }


def test_a_manager_creates_a_rule_sees_its_dry_run_and_switches_it_on(client, world, make_user):
    # given
    manager = make_user("manager")
    _client(client, manager)

    # when
    created = client.post(
        reverse("freezes:rule-create"),
        {
            "name": "Returns",
            "kind": "sales_return",
            "reason": "after_sales_return",
            "release_mode": "manual",
        },
    )
    rule = FreezeRule.objects.get()
    assert created.status_code == 302 and not rule.is_active
    dry = client.get(reverse("freezes:rule-activate", args=[rule.pk]))
    switched = client.post(reverse("freezes:rule-activate", args=[rule.pk]))

    # then
    assert "would have frozen" in dry.content.decode()
    assert switched.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active
    balance = receive(world.snack, world.bin, 2, kind=Kind.INBOUND_SALES_RETURN)
    assert balance.frozen == 2


def test_staff_cannot_edit_rules_and_bad_rules_get_a_message(client, world, make_user):
    # given
    _client(client, make_user("staff"))

    # when / then
    assert client.get(reverse("freezes:rule-create")).status_code == 403
    _client(client, make_user("manager"))
    response = client.post(
        reverse("freezes:rule-create"),
        {"name": "N", "kind": "near_expiry", "reason": "near_expiry", "release_mode": "manual"},
    )
    assert response.status_code == 422
    assert "within how many days" in response.content.decode()
    assert not FreezeRule.objects.exists()


def test_the_freeze_list_uses_a_fixed_number_of_queries(
    client, world, make_user, django_assert_num_queries
):
    # given
    clerk = make_user("staff")
    for _n in range(12):
        goods = GoodsFactory()
        receive(goods, world.bin, 3)
        freeze_create(scope=Scope(goods_id=goods.pk), reason="qc_hold", operator=clerk)
    _client(client, clerk)
    url = reverse("freezes:freeze-list")
    client.get(url)

    # when / then
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["freezes"]) == 12


def test_the_freeze_form_works_over_htmx(client, world, make_user):
    # given
    receive(world.snack, world.bin, 30, batch=world.batch_old)
    _client(client, make_user("staff"))
    url = reverse("freezes:freeze-create")

    # when
    invalid = client.post(url, {"goods": "NOPE", "preview": "1"}, HTTP_HX_REQUEST="true")
    preview = client.post(url, _form(world, preview="1"), HTTP_HX_REQUEST="true")
    done = client.post(
        url,
        _form(world, confirm="1", digest=preview.context["digest"]),
        HTTP_HX_REQUEST="true",
    )

    # then
    assert invalid.status_code == 422 and "<html" not in invalid.content.decode()
    assert preview.status_code == 200 and 'id="freeze-form"' in preview.content.decode()
    assert "HX-Request" in preview["Vary"]
    freeze = Freeze.objects.get()
    assert done.status_code == 204
    assert done["HX-Redirect"] == reverse("freezes:freeze-detail", args=[freeze.pk])


def test_a_decision_never_redirects_to_another_site(client, world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin, 4)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    request = release_request_create(freeze=freeze, requester=clerk, reason="QC passed")
    _client(client, manager)

    # when
    response = client.post(
        reverse("freezes:release-decide", args=[request.pk]),
        {"decision": "reject", "comment": "not yet", "next": "https://evil.example/phish"},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("freezes:release-queue")


def test_stock_pages_fetch_no_freeze_details_for_a_channel_operator(client, world, make_user):
    # given: frozen stock, and a user who may see stock but not freezes (channel operator)
    frozen = receive(world.snack, world.bin, 10)
    freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=make_user("staff")
    )
    operator = make_user("channel")
    _client(client, operator)
    holds = reverse("freezes:balance-holds")

    # when
    pages = {
        "stock query": client.get(reverse("inventory:stock-query")),
        "stock card": client.get(reverse("inventory:stock-card", args=[world.snack.pk])),
    }

    # then: the pages render, show the frozen units in blue, and neither link to nor fetch the
    # freezes page the operator would be refused (a bare 403 inside the stock query)
    assert not operator.has_perm("freezes.view_freeze")
    assert client.get(holds, {"balance": frozen.pk}).status_code == 403
    for name, page in pages.items():
        assert page.status_code == 200, name
        text = page.content.decode()
        assert holds not in text, name
        assert "frozen" in text, name


@pytest.mark.parametrize("kind", [kind for kind, _label in FreezeRule.Kind.choices])
def test_the_switch_on_page_renders_the_dry_run_rows_of_every_rule_kind(
    client, world, make_user, kind
):
    # given: stock each kind would freeze (a batch near expiry, a return, a food arrival)
    from freezes.services.rules import rule_create
    from inventory.tests.factories import BatchFactory

    today = timezone.localdate()
    near = BatchFactory(
        goods=world.snack, batch_no="NEAR-1", expiry_date=today + datetime.timedelta(days=9)
    )
    receive(world.snack, world.bin, 6, batch=near)
    receive(world.snack, world.bin2, 4, kind=Kind.INBOUND_SALES_RETURN)
    manager = make_user("manager")
    rule = rule_create(
        operator=manager,
        name=f"Rule {kind}",
        kind=kind,
        reason=Reason.NEAR_EXPIRY,
        categories=[world.food],
        days_to_expiry=30,
    )

    # when
    response = _client(client, manager).get(reverse("freezes:rule-activate", args=[rule.pk]))

    # then: the page and its rows, with the goods and bin of each
    assert response.status_code == 200
    text = response.content.decode()
    assert world.snack.sku in text
    assert len(response.context["dry"].rows) >= 1
    if kind == FreezeRule.Kind.NEAR_EXPIRY:
        assert "NEAR-1" in text and world.bin.code in text
