from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wms import health, work


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    """The home page of work: what waits for this user (each app's provider in wms/work.py,
    one indexed COUNT per item). The worker-health banner comes with the layout."""
    context = {"work": work.work_for(request.user)}
    return render(request, "wms/home.html", context)


@never_cache
@require_GET
def healthz_view(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 when the database answers, 503 when it does not.
    A broker outage is "degraded", still 200: postings go on and their tasks wait in the task
    outbox (``wms.outbox``), so a load balancer must not take every web node out for it.
    ``background`` says whether the worker and beat were seen in the last two minutes.

    Public on purpose (no login), and says nothing beyond up/down and the backend names.
    """
    db_ok, db_detail = health.database_status()
    broker_ok, broker_detail = health.broker_status()
    ok = db_ok
    body = {
        "status": ("ok" if broker_ok else "degraded") if db_ok else "unavailable",
        "database": {"ok": db_ok, "detail": db_detail if db_ok else "unreachable"},
        "broker": {"ok": broker_ok, "detail": broker_detail if broker_ok else "unreachable"},
    }
    # Background work (worker + beat) is reported, not part of the status: a load balancer
    # must keep serving pages while the worker is down.
    if db_ok:
        body["background"] = health.background_status().as_dict()
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def favicon_view(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page the layout does not cover (the admin, files):
    send them to our own icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
