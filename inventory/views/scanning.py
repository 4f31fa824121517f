"""Scan screens: receive an inbound sheet, pick an outbound sheet from its pick list, move goods
between bins and count a bin, by scanner (keystrokes + Enter) or camera.

Each screen is one form posting one code at a time to its own URL; ``static/js/scan.js`` sends it
with ``HX-Request`` and swaps in the ``panel`` partial (what was done, what is left), beeping and
flashing red on a refusal. Without JavaScript the same form posts and the whole page comes back.
Every scan goes through ``inventory.services.scanning.scan_apply``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from inventory.exceptions import NotAllowed, StockError
from inventory.models import (
    InboundLine,
    InboundSheet,
    OutboundSheet,
    ScanSession,
    StockBalance,
    StockCount,
    StockCountLine,
)
from inventory.selectors import picking
from inventory.services import scanning
from inventory.services import stock as stock_services
from wms.http import permission, respond

Mode = ScanSession.Mode
#: The receive screen lists the latest lines (the totals count them all).
RECENT_LINES = 30


class ScanForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Scan or type a code"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "enterkeyhint": "go",
            }
        ),
    )
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"),
        min_value=1,
        max_value=1_000_000,
        initial=1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    #: Milliseconds since the same code was last scanned on this screen (scan.js), if it was.
    gap_ms = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


@dataclass(frozen=True)
class Screen:
    mode: str
    model: type | None
    perms: tuple[str, ...]
    finish_perm: str
    title: str


SCREENS = {
    Mode.RECEIVE: Screen(
        Mode.RECEIVE,
        InboundSheet,
        ("inventory.view_inboundsheet", "inventory.change_inboundsheet"),
        "inventory.post_sheet",
        gettext_lazy("Receive by scan"),
    ),
    Mode.PICK: Screen(
        Mode.PICK,
        OutboundSheet,
        ("inventory.view_outboundsheet", "inventory.change_outboundsheet"),
        "inventory.post_sheet",
        gettext_lazy("Pick by scan"),
    ),
    Mode.COUNT: Screen(
        Mode.COUNT,
        StockCount,
        ("inventory.view_stockcount", "inventory.change_stockcount"),
        "inventory.adjust_stock",
        gettext_lazy("Count by scan"),
    ),
    Mode.MOVE: Screen(
        Mode.MOVE,
        None,
        ("inventory.transfer_stock", "inventory.add_stocktransfer"),
        "inventory.transfer_stock",
        gettext_lazy("Move by scan"),
    ),
}


def _screen(request: HttpRequest, mode: str, pk: int | None, *, read_session: bool = True):
    """The screen, its document (a draft, else 404 for a missing one and a redirect for a
    posted one, decided by the caller) and the user's session (read, or only named for
    ``scan_apply`` to lock); 403 without the permissions."""
    screen = SCREENS.get(mode)
    if screen is None:
        raise Http404
    if not request.user.has_perms(screen.perms):
        raise PermissionDenied
    document = None
    if screen.model is not None:
        document = get_object_or_404(screen.model.objects.select_related("warehouse"), pk=pk)
    if not read_session:
        return screen, document, ScanSession(user=request.user, mode=mode, document_id=pk or 0)
    session = scanning.scan_session_open(user=request.user, mode=mode, document_id=pk or 0)
    return screen, document, session


def _url(mode: str, pk: int | None, action: str = "") -> str:
    name = f"inventory:scan-{mode}{'-' + action if action else ''}"
    return reverse(name, args=[pk] if pk else [])


def _detail_url(mode: str, pk: int | None) -> str:
    return {
        Mode.RECEIVE: lambda: reverse("inventory:inbound-detail", args=[pk]),
        Mode.PICK: lambda: reverse("inventory:outbound-detail", args=[pk]),
        Mode.COUNT: lambda: reverse("inventory:count-detail", args=[pk]),
        Mode.MOVE: lambda: reverse("inventory:transfer-list"),
    }[mode]()


def _panel(screen: Screen, document, session: ScanSession, user) -> dict:
    """What the panel lists under the scan box: a few queries, whatever the document's size."""
    context: dict = {}
    if screen.mode == Mode.RECEIVE:
        context["lines"] = list(
            InboundLine.objects.filter(sheet=document)
            .select_related("goods", "bin", "batch")
            .order_by("-pk")[:RECENT_LINES]
        )
        totals = InboundLine.objects.filter(sheet=document).aggregate(
            count=Count("pk"), units=Sum("quantity")
        )
        context["line_count"], context["units"] = totals["count"], totals["units"] or 0
    elif screen.mode == Mode.PICK:
        plan = getattr(session, "plan", None)
        if plan is None:
            plan = picking.pick_plan([document]) if document.is_draft else []
        stops = scanning.pick_progress(session, plan)
        context["stops"] = stops
        context["short"] = [row for row in plan if row.bin_id is None]
        context["all_picked"] = bool(stops) and all(stop["left"] == 0 for stop in stops)
        context["left"] = sum(stop["left"] for stop in stops)
    elif screen.mode == Mode.COUNT:
        context["blind"] = document.is_blind
        context["can_switch_blind"] = user.has_perm("inventory.change_blind_mode")
        if session.bin_id:
            context["lines"] = list(
                StockCountLine.objects.filter(count=document, bin_id=session.bin_id)
                .select_related("goods", "batch")
                .order_by("goods__sku", "pk")
            )
            if not context["blind"]:
                context["expected"] = list(
                    StockBalance.objects.filter(bin_id=session.bin_id, on_hand__gt=0)
                    .select_related("goods", "batch")
                    .order_by("goods__sku", F("batch__expiry_date").asc(nulls_last=True))[:200]
                )
    else:
        context["items"] = session.state.get("items", [])
        context["last_move"] = session.state.get("last", "")
    return context


def _render(request, screen, document, session, *, outcome=None, form=None, status=200):
    context = {
        "screen": screen,
        "document": document,
        "session": session,
        "form": form or ScanForm(initial={"quantity": 1}),
        "outcome": outcome,
        "scan_url": _url(screen.mode, document.pk if document else None),
        "finish_url": _url(screen.mode, document.pk, "finish") if document else "",
        "detail_url": _detail_url(screen.mode, document.pk if document else None),
        "can_finish": request.user.has_perm(screen.finish_perm),
        **_panel(screen, document, session, request.user),
    }
    return respond(
        request, "inventory/floor/scan_session.html", context, partial="panel", status=status
    )


@require_http_methods(["GET", "POST"])
@login_required
def scan_session_view(request: HttpRequest, mode: str, pk: int | None = None) -> HttpResponse:
    """GET: the scan screen of a draft document (a posted one redirects to it). POST: one scan
    (``code``, ``quantity`` default 1, ``confirm`` after a bounce question, ``gap_ms``)."""
    screen, document, session = _screen(request, mode, pk, read_session=request.method == "GET")
    if document is not None and not document.is_draft:
        messages.info(request, _("%(doc)s is posted.") % {"doc": document.number})
        return redirect(_detail_url(mode, document.pk))
    if request.method == "GET":
        if mode == Mode.PICK:
            refusal = scanning.scan_pick_refusal(list(document.lines.select_related("goods")))
            if refusal:  # before the clerk walks the aisles, not at the end
                messages.error(request, refusal)
                return redirect(_detail_url(mode, document.pk))
        return _render(request, screen, document, session)
    form = ScanForm(request.POST)
    if not form.is_valid():
        session = scanning.scan_session_open(user=request.user, mode=mode, document_id=pk or 0)
        message = (
            _("Quantity: %(error)s") % {"error": form.errors["quantity"][0]}
            if "quantity" in form.errors
            else _("Nothing was scanned.")
        )
        outcome = scanning.ScanOutcome("refused", message)
        return _render(request, screen, document, session, outcome=outcome)
    data = form.cleaned_data
    outcome = scanning.scan_apply(
        session=session,
        user=request.user,
        code=data["code"],
        quantity=data.get("quantity") or 1,
        confirm=data.get("confirm", False),
        gap_ms=data.get("gap_ms"),
        document=document,
    )
    return _render(request, screen, document, session, outcome=outcome)


@require_POST
@login_required
def scan_finish_view(request: HttpRequest, mode: str, pk: int) -> HttpResponse:
    """Post what was scanned: the inbound sheet, the picked outbound sheet (shipped), the count.
    A refusal (frozen stock, expired batch, not all picked...) comes back on the scan screen."""
    screen, document, session = _screen(request, mode, pk)
    if not request.user.has_perm(screen.finish_perm):
        raise PermissionDenied
    if document is None or not document.is_draft:  # a double submit: posted already
        messages.info(request, _("%(doc)s is posted.") % {"doc": document.number})
        return redirect(_detail_url(mode, pk))
    try:
        if mode == Mode.RECEIVE:
            stock_services.inbound_sheet_post(sheet_id=document.pk, user=request.user)
        elif mode == Mode.PICK:
            scanning.pick_ship(session=session, user=request.user)
        elif mode == Mode.COUNT:
            stock_services.count_post(count_id=document.pk, user=request.user)
        else:
            raise Http404
    except StockError as error:
        outcome = scanning.ScanOutcome("refused", str(error))
        return _render(request, screen, document, session, outcome=outcome, status=422)
    ScanSession.objects.filter(pk=session.pk).delete()
    messages.success(request, _("%(doc)s is posted.") % {"doc": document.number})
    return redirect(_detail_url(mode, document.pk))


@require_POST
@permission("inventory.view_stockcount", "inventory.change_stockcount")
def scan_count_blind_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch the count blind or back (``count_set_blind``: supervisors only). A refusal comes
    back on the scan screen, 403 for a clerk."""
    screen, document, session = _screen(request, Mode.COUNT, pk)
    try:
        scanning.count_set_blind(
            count=document, blind=request.POST.get("blind") == "1", user=request.user
        )
    except StockError as error:
        outcome = scanning.ScanOutcome("refused", str(error))
        status = 403 if isinstance(error, NotAllowed) else 422
        return _render(request, screen, document, session, outcome=outcome, status=status)
    return redirect(_url(Mode.COUNT, pk))


@require_POST
@permission("inventory.transfer_stock")
def scan_move_reset_view(request: HttpRequest) -> HttpResponse:
    """Put down what the clerk was carrying (nothing was moved yet) and start again."""
    ScanSession.objects.filter(user=request.user, mode=Mode.MOVE).delete()
    return redirect(_url(Mode.MOVE, None))
