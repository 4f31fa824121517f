"""Freeze screens: thin views that parse with a form, call a service or selector, render.

Anonymous visitors go to the login page; a user without the permission gets 403; an unknown id
gets 404. htmx requests get the page's partial (``Vary: HX-Request``). An invalid form or a
refused action comes back with status 422 and a clear message; nothing was changed then.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Iterator
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from freezes import selectors, tasks
from freezes.filters import FreezeFilter, FrozenStockFilter
from freezes.forms import (
    AgeingForm,
    DecisionForm,
    FreezeEditForm,
    FreezeForm,
    InspectionForm,
    ReleaseRequestForm,
    RuleForm,
    ShipOutForm,
)
from freezes.models import Freeze, FreezeJob, FreezeRule, Reason
from freezes.services import freezing, jobs, release, rules
from inventory.exceptions import StockError
from wms.http import View, parse_id, permission, respond
from wms.jobs import MAX_ATTEMPTS
from wms.outbox import enqueue_on_commit
from wms.pagination import KeysetPage, keyset_page, keyset_rows
from wms.writers import export_response

PER_PAGE = 50
MAX_BALANCES = 100


def _freeze_or_404(request: HttpRequest, pk: int) -> Freeze:
    freeze = selectors.freeze_get(user=request.user, pk=pk)
    if freeze is None:
        raise Http404
    return freeze


def _with_freeze(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        return view(request, _freeze_or_404(request, pk), *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, queryset, per_page: int = PER_PAGE) -> KeysetPage:
    return keyset_page(
        queryset, cursor=request.GET.get("cursor"), per_page=per_page, with_count=True
    )


def _ageing_days(request: HttpRequest) -> tuple[AgeingForm, int]:
    default = selectors.ageing_days_default()
    form = AgeingForm({"days": request.GET.get("days") or default})
    days = form.cleaned_data["days"] if form.is_valid() else default
    return form, days


# --- freezes --------------------------------------------------------------------------------


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
def freeze_list_view(request: HttpRequest) -> HttpResponse:
    filterset = FreezeFilter(request.GET or None, queryset=selectors.freeze_list(user=request.user))
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else filterset.queryset.none()
    page = _page(request, queryset, 25)
    context = {"filterset": filterset, "page": page, "freezes": page.rows}
    return respond(
        request,
        "freezes/freeze_list.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


@permission("freezes.add_freeze")
@require_http_methods(["GET", "POST"])
def freeze_create_view(request: HttpRequest) -> HttpResponse:
    """GET: the form (pre-filled from the query string, e.g. from the stock query). POST with
    ``preview``: the rows and quantities that would be frozen. POST with ``confirm`` and the
    digest of the preview shown: the freeze (a changed selection is previewed again)."""
    if request.method == "GET":
        form = FreezeForm(
            initial={k: v for k, v in request.GET.items() if k in FreezeForm.base_fields}
        )
        return respond(request, "freezes/freeze_form.html", {"form": form, "preview": None})
    form = FreezeForm(request.POST)
    context = {"form": form, "preview": None}
    if not form.is_valid():
        return respond(request, "freezes/freeze_form.html", context, partial="form", status=422)
    scope = form.scope()
    try:
        freezing.check_scope(scope)
    except StockError as error:
        form.add_domain_error(error)
        return respond(request, "freezes/freeze_form.html", context, partial="form", status=422)
    digest = form.preview_digest()
    quantity = form.cleaned_data["quantity"]
    if "confirm" not in request.POST or form.cleaned_data["digest"] != digest:
        if "confirm" in request.POST:
            messages.warning(request, _("The selection changed: check the preview again."))
        context["preview"] = selectors.freeze_preview(
            user=request.user, scope=scope, quantity=quantity
        )
        context["digest"] = digest
        return respond(request, "freezes/freeze_form.html", context, partial="form")
    data = form.cleaned_data
    total = selectors.scope_balance_count(user=request.user, scope=scope)
    if total > jobs.background_threshold():
        return _freeze_in_background(request, form, context, scope, total, digest)
    try:
        freeze = freezing.freeze_create(
            scope=scope,
            reason=data["reason"],
            note=data["note"],
            quantity=quantity,
            is_sticky=data["is_sticky"],
            release_on_qc_pass=data["release_on_qc_pass"],
            release_at=data["release_at"],
            operator=request.user,
            idempotency_key=f"freeze-form-{data['token']}" if data["token"] else None,
        )
    except StockError as error:
        form.add_domain_error(error)
        context["preview"] = selectors.freeze_preview(
            user=request.user, scope=scope, quantity=quantity
        )
        context["digest"] = digest
        return respond(request, "freezes/freeze_form.html", context, partial="form", status=422)
    messages.success(request, _("%(freeze)s created.") % {"freeze": freeze.number})
    url = reverse("freezes:freeze-detail", args=[freeze.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _freeze_in_background(
    request: HttpRequest, form: FreezeForm, context: dict, scope, total: int, digest: str
) -> HttpResponse:
    """A freeze of many balances is made by a task; the user follows it on the job page."""
    data = form.cleaned_data
    try:
        job = jobs.freeze_job_create(
            scope=scope,
            reason=data["reason"],
            note=data["note"],
            quantity=data["quantity"],
            is_sticky=data["is_sticky"],
            release_on_qc_pass=data["release_on_qc_pass"],
            release_at=data["release_at"],
            operator=request.user,
            token=f"freeze-form-{data['token'] or uuid.uuid4().hex}",
            total=total,
        )
    except StockError as error:
        form.add_domain_error(error)
        context["preview"] = selectors.freeze_preview(
            user=request.user, scope=scope, quantity=data["quantity"]
        )
        context["digest"] = digest
        return respond(request, "freezes/freeze_form.html", context, partial="form", status=422)
    url = reverse("freezes:freeze-job", args=[job.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
def freeze_job_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of a large freeze made in the background; polled by htmx while it runs, sent
    on to the freeze when done."""
    job = selectors.freeze_job_get(user=request.user, pk=pk)
    if job is None:
        raise Http404
    if request.htmx and job.status == FreezeJob.Status.DONE and job.freeze_id:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("freezes:freeze-detail", args=[job.freeze_id])
        return response
    context = {"job": job, "max_attempts": MAX_ATTEMPTS}
    return respond(request, "freezes/freeze_job.html", context, partial="status")


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
@_with_freeze
def freeze_detail_view(request: HttpRequest, freeze: Freeze) -> HttpResponse:
    detail = selectors.freeze_detail(user=request.user, freeze=freeze)
    context = {
        "freeze": freeze,
        "detail": detail,
        "release_mode": release.release_mode_of(freeze),
        "request_form": ReleaseRequestForm(freeze=freeze),
    }
    return respond(request, "freezes/freeze_detail.html", context)


@permission("freezes.change_freeze")
@require_http_methods(["GET", "POST"])
@_with_freeze
def freeze_edit_view(request: HttpRequest, freeze: Freeze) -> HttpResponse:
    back = reverse("freezes:freeze-detail", args=[freeze.pk])
    if request.method == "POST":
        form = FreezeEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            stored = freeze.release_at
            if stored is not None and data["release_at"] == stored.replace(second=0, microsecond=0):
                # The form shows the time to the minute: sent back unchanged, it is the same time.
                data["release_at"] = stored
            try:
                freezing.freeze_update(freeze=freeze, operator=request.user, **data)
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("%(freeze)s saved.") % {"freeze": freeze.number})
                return redirect(back)
        return _form_page(request, form, freeze, _("Change %(freeze)s"), back, status=422)
    form = FreezeEditForm(
        initial={
            "note": freeze.note,
            "release_at": freeze.release_at,
            "release_on_qc_pass": freeze.release_on_qc_pass,
        }
    )
    return _form_page(request, form, freeze, _("Change %(freeze)s"), back)


def _form_page(
    request: HttpRequest,
    form,
    freeze: Freeze | None,
    title: str,
    back: str,
    *,
    status: int = 200,
    button: str = "",
    intro: str = "",
) -> HttpResponse:
    context = {
        "form": form,
        "freeze": freeze,
        "title": title % {"freeze": freeze.number} if freeze is not None else title,
        "back_url": back,
        "button": button or _("Save"),
        "intro": intro,
    }
    return respond(request, "freezes/form_page.html", context, partial="form", status=status)


@permission("freezes.change_freeze")
@require_POST
@_with_freeze
def freeze_stop_sticky_view(request: HttpRequest, freeze: Freeze) -> HttpResponse:
    try:
        changed = freezing.freeze_stop_sticky(freeze=freeze, operator=request.user)
    except StockError as error:
        messages.error(request, error.message_html)
    else:
        if changed:
            messages.success(
                request, _("%(freeze)s no longer freezes arrivals.") % {"freeze": freeze.number}
            )
    return redirect("freezes:freeze-detail", pk=freeze.pk)


@permission("freezes.request_release")
@require_http_methods(["GET", "POST"])
@_with_freeze
def release_request_create_view(request: HttpRequest, freeze: Freeze) -> HttpResponse:
    back = reverse("freezes:freeze-detail", args=[freeze.pk])
    title = _("Ask to release stock of %(freeze)s")
    button = _("Request release")
    if request.method == "POST":
        form = ReleaseRequestForm(request.POST, freeze=freeze)
        if form.is_valid():
            try:
                release.release_request_create(
                    freeze=freeze,
                    requester=request.user,
                    reason=form.cleaned_data["reason"],
                    quantity=form.cleaned_data["quantity"],
                    line=form.cleaned_data["line"],
                    idempotency_key=(
                        f"release-form-{form.cleaned_data['token']}"
                        if form.cleaned_data["token"]
                        else None
                    ),
                )
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("Release of %(freeze)s requested: an approver will decide.")
                    % {"freeze": freeze.number},
                )
                return redirect(back)
        return _form_page(request, form, freeze, title, back, status=422, button=button)
    form = ReleaseRequestForm(freeze=freeze)
    return _form_page(request, form, freeze, title, back, button=button)


@permission("freezes.ship_frozen")
@require_http_methods(["GET", "POST"])
@_with_freeze
def freeze_ship_out_view(request: HttpRequest, freeze: Freeze) -> HttpResponse:
    back = reverse("freezes:freeze-detail", args=[freeze.pk])
    title = _("Scrap or return stock of %(freeze)s")
    button = _("Take out of stock")
    intro = _("Frozen stock leaves the warehouse only as scrap or as a return to the supplier.")
    if request.method == "POST":
        form = ShipOutForm(request.POST, freeze=freeze)
        if form.is_valid():
            data = dict(form.cleaned_data)
            token = data.pop("token")
            try:
                freezing.freeze_ship_out(
                    freeze=freeze,
                    operator=request.user,
                    idempotency_key=f"freeze-ship-out-{token}" if token else None,
                    **data,
                )
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("Frozen stock taken out and recorded on %(freeze)s.")
                    % {"freeze": freeze.number},
                )
                return redirect(back)
        return _form_page(
            request, form, freeze, title, back, status=422, button=button, intro=intro
        )
    initial = {"line": request.GET.get("line")} if request.GET.get("line") else None
    form = ShipOutForm(freeze=freeze, initial=initial)
    return _form_page(request, form, freeze, title, back, button=button, intro=intro)


@permission("freezes.add_qualityinspection")
@require_http_methods(["GET", "POST"])
def inspection_create_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    freeze = _freeze_or_404(request, pk) if pk is not None else None
    back = reverse("freezes:freeze-detail", args=[pk]) if freeze else reverse("freezes:freeze-list")
    title = _("QC result for %(freeze)s") if freeze else _("QC result for a batch")
    button = _("Record result")
    intro = _(
        "A pass releases the stock of freezes set to release on QC pass; a partial result "
        "releases the passed units; on a fail the stock stays frozen (scrap it or return it)."
    )
    if request.method == "POST":
        form = InspectionForm(request.POST, for_batch=freeze is None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                inspection = release.inspection_record(
                    inspector=request.user,
                    freeze=freeze,
                    batch=data.get("batch_obj"),
                    result=data["result"],
                    passed=data["passed"],
                    failed=data["failed"],
                    note=data["note"],
                    idempotency_key=f"qc-form-{data['token']}" if data["token"] else None,
                )
            except StockError as error:
                form.add_domain_error(error)
            else:
                text = _("QC result recorded; %(n)s units released.") % {
                    "n": inspection.released_quantity
                }
                if inspection.suggests_disposal:
                    text += " " + _(
                        "Failed stock stays frozen: scrap it or return it to the supplier."
                    )
                messages.success(request, text)
                return redirect(back)
        return _form_page(
            request, form, freeze, title, back, status=422, button=button, intro=intro
        )
    form = InspectionForm(for_batch=freeze is None)
    return _form_page(request, form, freeze, title, back, button=button, intro=intro)


# --- frozen stock list, export, dashboard ---------------------------------------------------


def _frozen_filterset(request: HttpRequest) -> tuple[FrozenStockFilter, bool]:
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("days", None)
    params.pop("format", None)
    filterset = FrozenStockFilter(
        params or None, queryset=selectors.frozen_stock_lines(user=request.user)
    )
    valid = not filterset.is_bound or filterset.is_valid()
    return filterset, valid


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
def frozen_stock_view(request: HttpRequest) -> HttpResponse:
    filterset, valid = _frozen_filterset(request)
    queryset = filterset.qs if valid else filterset.queryset.none()
    ageing_form, days = _ageing_days(request)
    page = _page(request, queryset)
    lines = page.rows
    limit = datetime.timedelta(days=days)
    for line in lines:
        line.age_days = line.age.days
        line.is_ageing = line.age > limit
    totals_units = sum(line.held_qty for line in lines)
    context = {
        "filterset": filterset,
        "page": page,
        "lines": lines,
        "days": days,
        "ageing_form": ageing_form,
        "page_units": totals_units,
    }
    return respond(
        request,
        "freezes/frozen_stock.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


# Lazy: the header is rendered per request, in the user's language.
EXPORT_COLUMNS = [
    ("freeze", gettext_lazy("Freeze")),
    ("reason", gettext_lazy("Reason")),
    ("sku", gettext_lazy("SKU")),
    ("goods", gettext_lazy("Goods")),
    ("category", gettext_lazy("Category")),
    ("brand", gettext_lazy("Brand")),
    ("warehouse", gettext_lazy("Warehouse")),
    ("bin", gettext_lazy("Bin")),
    ("batch", gettext_lazy("Batch")),
    ("expiry", gettext_lazy("Expiry date")),
    ("held", gettext_lazy("Frozen units")),
    ("frozen_at", gettext_lazy("Frozen at")),
    ("frozen_by", gettext_lazy("Frozen by")),
    ("age_days", gettext_lazy("Days held")),
    ("note", gettext_lazy("Note")),
]


def _export_rows(lines: Iterable) -> Iterator[list[object]]:
    reason_labels = dict(Reason.choices)
    for line in lines:
        balance = line.balance
        freeze = line.freeze
        by = freeze.created_by.get_username() if freeze.created_by_id else ""
        if not by and freeze.rule_id:
            by = _("rule: %(name)s") % {"name": freeze.rule.name}
        values = {
            "freeze": freeze.number,
            "reason": str(reason_labels.get(freeze.reason, freeze.reason)),
            "sku": line.goods.sku,
            "goods": line.goods.name,
            "category": line.goods.category.name if line.goods.category_id else "",
            "brand": line.goods.brand.name if line.goods.brand_id else "",
            "warehouse": line.warehouse.code,
            "bin": balance.bin.code,
            "batch": balance.batch.batch_no if balance.batch_id else "",
            "expiry": balance.batch.expiry_date.isoformat()
            if balance.batch_id and balance.batch.expiry_date
            else "",
            "held": line.held_qty,
            "frozen_at": timezone.localtime(freeze.created_at).strftime("%Y-%m-%d %H:%M"),
            "frozen_by": by,
            "age_days": line.age.days,
            "note": freeze.note,
        }
        yield [values[key] for key, _label in EXPORT_COLUMNS]


@permission("freezes.export_freezes")
@require_http_methods(["GET"])
def frozen_stock_export_view(request: HttpRequest) -> HttpResponse:
    """The frozen-stock list with the same filters, as CSV or Excel (``format=xlsx``)."""
    filterset, valid = _frozen_filterset(request)
    if not valid:
        return respond(
            request,
            "freezes/frozen_stock.html",
            {"filterset": filterset, "page": None, "lines": [], "days": 0},
            status=422,
        )
    rows = _export_rows(keyset_rows(filterset.qs))
    header = [str(label) for _key, label in EXPORT_COLUMNS]
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_response(file_format, "frozen-stock", header, rows, title=str(_("Frozen stock")))


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
def dashboard_view(request: HttpRequest) -> HttpResponse:
    ageing_form, days = _ageing_days(request)
    board = selectors.dashboard(user=request.user, ageing_days=days)
    context = {"board": board, "ageing_form": ageing_form, "days": days}
    return respond(request, "freezes/dashboard.html", context)


@permission("freezes.view_freeze")
@require_http_methods(["GET"])
def balance_holds_view(request: HttpRequest) -> HttpResponse:
    """Which freezes hold the given balances (``?balance=1&balance=2``), with reason, time and
    operator: an htmx fragment for the stock query and bin lookup rows, or a full page that
    also shows who froze and released the stock of one balance."""
    parsed = [parse_id(value) for value in request.GET.getlist("balance")]
    ids = [] if None in parsed else sorted(set(parsed))
    if not ids or len(ids) > MAX_BALANCES:
        return respond(
            request,
            "freezes/balance_holds.html",
            {"holds": {}, "rows": [], "history": [], "error": _("Name up to 100 balances.")},
            partial="holds",
            status=422,
        )
    holds = selectors.balance_holds(user=request.user, balance_ids=ids)
    rows = [(pk, holds.get(pk, [])) for pk in ids]
    history = []
    if len(ids) == 1 and not request.htmx:
        history = selectors.balance_freeze_history(user=request.user, balance_id=ids[0])
    single = len(ids) == 1 and not request.htmx  # inside a stock row the row names the stock
    context = {"rows": rows, "history": history, "single": single, "error": ""}
    return respond(request, "freezes/balance_holds.html", context, partial="holds")


# --- release queue --------------------------------------------------------------------------


@permission("freezes.view_releaserequest")
@require_http_methods(["GET"])
def release_queue_view(request: HttpRequest) -> HttpResponse:
    rows = selectors.release_queue(user=request.user)
    recent = selectors.release_recent(user=request.user)
    context = {
        "rows": rows,
        "recent": recent,
        "can_approve": request.user.has_perm("freezes.approve_release"),
    }
    return respond(request, "freezes/release_queue.html", context)


@permission("freezes.approve_release")
@require_POST
def release_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    release_request = selectors.release_request_get(user=request.user, pk=pk)
    if release_request is None:
        raise Http404
    form = DecisionForm(request.POST)
    error = ""
    if form.is_valid():
        comment = form.cleaned_data["comment"]
        try:
            if form.cleaned_data["decision"] == "approve":
                units = release.release_request_approve(
                    request=release_request, approver=request.user, comment=comment
                )
                messages.success(
                    request,
                    _("Release approved: %(n)s units of %(freeze)s are available again.")
                    % {"n": units, "freeze": release_request.freeze.number},
                )
            else:
                release.release_request_reject(
                    request=release_request, approver=request.user, comment=comment
                )
                messages.success(
                    request,
                    _("Release of %(freeze)s rejected; the stock stays frozen.")
                    % {"freeze": release_request.freeze.number},
                )
        except StockError as refusal:
            error = str(refusal)
    else:
        error = _("Add a comment to your decision.")
    if error:
        messages.error(request, error)
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("freezes:release-queue")
            return response
        return redirect("freezes:release-queue")
    next_url = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("freezes:release-queue")
    return redirect(next_url)


@permission("freezes.request_release")
@require_POST
def release_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    release_request = selectors.release_request_get(user=request.user, pk=pk)
    if release_request is None:
        raise Http404
    try:
        release.release_request_cancel(request=release_request, user=request.user)
    except StockError as error:
        messages.error(request, error.message_html)
    else:
        messages.success(request, _("Release request withdrawn."))
    return redirect("freezes:freeze-detail", pk=release_request.freeze_id)


# --- rules ----------------------------------------------------------------------------------


def _rule_or_404(request: HttpRequest, pk: int) -> FreezeRule:
    rule = selectors.rule_get(user=request.user, pk=pk)
    if rule is None:
        raise Http404
    return rule


@permission("freezes.view_freezerule")
@require_http_methods(["GET"])
def rule_list_view(request: HttpRequest) -> HttpResponse:
    rules_list = selectors.rule_list(user=request.user)
    return respond(request, "freezes/rule_list.html", {"rules": rules_list})


@permission("freezes.add_freezerule")
@require_http_methods(["GET", "POST"])
def rule_create_view(request: HttpRequest) -> HttpResponse:
    back = reverse("freezes:rule-list")
    title = _("New auto-freeze rule")
    intro = _("A new rule starts switched off: switch it on after its dry run.")
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                rule = rules.rule_create(operator=request.user, **form.cleaned_data)
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request, _("Rule “%(name)s” saved, switched off.") % {"name": rule.name}
                )
                return redirect("freezes:rule-activate", pk=rule.pk)
        return _form_page(request, form, None, title, back, status=422, intro=intro)
    return _form_page(request, RuleForm(), None, title, back, intro=intro)


@permission("freezes.change_freezerule")
@require_http_methods(["GET", "POST"])
def rule_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(request, pk)
    back = reverse("freezes:rule-list")
    title = _("Rule “%(name)s”") % {"name": rule.name}
    intro = str(rule.get_kind_display())
    if request.method == "POST":
        form = RuleForm(request.POST, rule=rule)
        if form.is_valid():
            try:
                rules.rule_update(rule=rule, operator=request.user, **form.cleaned_data)
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect(back)
        return _form_page(request, form, None, title, back, status=422, intro=intro)
    form = RuleForm(initial=RuleForm.initial_for(rule), rule=rule)
    return _form_page(request, form, None, title, back, intro=intro)


@permission("freezes.change_freezerule")
@require_http_methods(["GET", "POST"])
def rule_activate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the dry run (what the rule would freeze now); POST: switch it on."""
    rule = _rule_or_404(request, pk)
    if request.method == "POST":
        try:
            rules.rule_set_active(rule=rule, operator=request.user, active=True)
        except StockError as error:
            context = {"rule": rule, "dry": rules.rule_dry_run(rule), "refusal": str(error)}
            return respond(request, "freezes/rule_activate.html", context, status=422)
        messages.success(request, _("Rule “%(name)s” switched on.") % {"name": rule.name})
        return redirect("freezes:rule-list")
    context = {"rule": rule, "dry": rules.rule_dry_run(rule), "refusal": ""}
    return respond(request, "freezes/rule_activate.html", context)


@permission("freezes.change_freezerule")
@require_http_methods(["GET", "POST"])
def rule_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask first (what switching off changes); POST: switch the rule off."""
    rule = _rule_or_404(request, pk)
    if request.method == "GET":
        return respond(request, "freezes/rule_deactivate.html", {"rule": rule})
    rules.rule_set_active(rule=rule, operator=request.user, active=False)
    messages.success(
        request,
        _("Rule “%(name)s” switched off; what it froze stays frozen.") % {"name": rule.name},
    )
    return redirect("freezes:rule-list")


@permission("freezes.change_freezerule")
@require_POST
def rule_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a switched-on near-expiry rule now, in the background, instead of waiting for the
    daily task."""
    rule = _rule_or_404(request, pk)
    if not rule.is_active or rule.kind != FreezeRule.Kind.NEAR_EXPIRY:
        messages.error(request, _("Only a switched-on near-expiry rule can be run."))
        return redirect("freezes:rule-list")
    enqueue_on_commit(tasks.near_expiry_rule_run_task.name, rule.pk)
    messages.success(
        request,
        _("“%(name)s” is running; what it freezes appears in the freeze list.")
        % {"name": rule.name},
    )
    return redirect("freezes:rule-list")
