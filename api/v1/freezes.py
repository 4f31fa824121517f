"""Freezes: create with a scope (and preview it), request a release, approve or reject it,
record a QC result, read the append-only events. Every write is a ``freezes.services`` call;
the permissions are the freeze screens' (``approve_release`` for decisions, and the services
refuse a decider who requested or froze the stock himself, 403 ``approval_refused``)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.pagination import OldestFirstCursorPage
from api.v1 import serializers as s
from api.v1.base import ApiViewSet
from freezes import selectors
from freezes.models import Freeze, FreezeEvent, FreezeLine, ReleaseRequest
from freezes.scope import Scope
from freezes.services import freezing, release
from wms.http import parse_id

SCOPE_EXAMPLE = {"goods": 3, "batch": 8}


def _scope(data: dict) -> Scope:
    return Scope(
        warehouse_id=data["warehouse"],
        goods_id=data["goods"],
        batch_id=data["batch"],
        bin_id=data["bin"],
        category_id=data["category"],
        brand_id=data["brand"],
        inbound_from=data["inbound_from"],
        inbound_to=data["inbound_to"],
        produced_from=data["produced_from"],
        produced_to=data["produced_to"],
    )


@extend_schema_view(
    list=extend_schema(
        summary="List freezes",
        description="Newest first; `status` narrows to active or closed freezes.",
        parameters=[OpenApiParameter("status", str, enum=Freeze.Status.values)],
    ),
    retrieve=extend_schema(
        summary="One freeze",
        description="With the lines it holds.",
        responses={200: s.FreezeDetailSerializer},
    ),
    create=extend_schema(
        summary="Freeze stock",
        description="Freeze everything available in the scope (no `quantity`) or `quantity` "
        "units earliest expiry first. Scope fields combine with AND; a category includes its "
        "sub-categories. 400 `scope_matches_nothing`, 409 `insufficient_stock` with the "
        "shortfall. Accepts `Idempotency-Key`.",
        request=s.FreezeInput,
        responses={201: s.FreezeDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "QC hold on a batch",
                value={"scope": SCOPE_EXAMPLE, "reason": "qc_hold", "release_on_qc_pass": True},
                request_only=True,
            )
        ],
    ),
)
class FreezeViewSet(ApiViewSet):
    queryset = Freeze.objects.none()
    serializer_class = s.FreezeSerializer
    required_perms = {
        "list": ("freezes.view_freeze",),
        "retrieve": ("freezes.view_freeze",),
        "create": ("freezes.add_freeze",),
        "preview": ("freezes.add_freeze",),
        "release_requests": ("freezes.request_release",),
        "inspections": ("freezes.add_qualityinspection",),
        "events": ("freezes.view_freezeevent",),
    }

    def _freeze(self) -> Freeze:
        freeze = selectors.freeze_get(user=self.request.user, pk=self.object_id())
        if freeze is None:
            raise Http404
        return freeze

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        freeze = Freeze.objects.prefetch_related("lines").get(pk=pk)
        return Response(s.FreezeDetailSerializer(freeze).data, status=code)

    def list(self, request):
        queryset = selectors.freeze_list(user=request.user)
        wanted = request.query_params.get("status")
        if wanted in Freeze.Status.values:
            queryset = queryset.filter(status=wanted)
        return self.paged(queryset, s.FreezeSerializer)

    def retrieve(self, request, pk=None):
        return self._out(self._freeze().pk)

    def create(self, request):
        data = self.parse(s.FreezeInput)
        scope = _scope(data.pop("scope"))

        def run() -> Response:
            freeze = freezing.freeze_create(scope=scope, operator=request.user, **data)
            return self._out(freeze.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)

    @extend_schema(
        summary="Preview a freeze",
        description="What a freeze of the scope would hold now (totals and the first rows, "
        "earliest expiry first). Writes nothing; the freeze re-checks under its locks.",
        request=s.PreviewInput,
        responses={200: s.PreviewSerializer},
        examples=[
            OpenApiExample(
                "Preview", value={"scope": SCOPE_EXAMPLE, "quantity": 50}, request_only=True
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        data = self.parse(s.PreviewInput)
        scope = _scope(data["scope"])
        freezing.check_scope(scope)
        preview = selectors.freeze_preview(
            user=request.user, scope=scope, quantity=data["quantity"]
        )
        rows = [
            {
                "balance_id": row["balance"].pk,
                "sku": row["balance"].goods.sku,
                "warehouse_code": row["balance"].warehouse.code,
                "bin_code": row["balance"].bin.code,
                "batch_no": row["balance"].batch.batch_no if row["balance"].batch_id else "",
                "available": row["available"],
                "to_freeze": row["to_freeze"],
            }
            for row in preview.rows
        ]
        body = {
            "balances": preview.balances,
            "on_hand": preview.on_hand,
            "available": preview.available,
            "to_freeze": preview.to_freeze,
            "shortfall": preview.shortfall,
            "more_rows": preview.more_rows,
            "rows": rows,
        }
        return Response(s.PreviewSerializer(body).data)

    @extend_schema(
        summary="Ask for a release",
        description="All of the freeze (no `quantity`), `quantity` units, or one `line`. "
        "Another holder of `approve_release` decides it.",
        request=s.ReleaseRequestInput,
        responses={201: s.ReleaseRequestSerializer},
        examples=[
            OpenApiExample(
                "Release", value={"reason": "QC passed", "quantity": 20}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="release-requests")
    def release_requests(self, request, pk=None):
        freeze = self._freeze()
        data = self.parse(s.ReleaseRequestInput)
        line = None
        if data["line"] is not None:
            line = FreezeLine.objects.filter(pk=data["line"]).first()
            if line is None:
                raise Http404
        made = release.release_request_create(
            freeze=freeze,
            requester=request.user,
            reason=data["reason"],
            quantity=data["quantity"],
            line=line,
        )
        return Response(s.ReleaseRequestSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a QC result",
        description="`pass`, `fail` or `partial` (with `passed` and `failed`). A freeze set to "
        "release on QC pass releases automatically. Accepts `Idempotency-Key`.",
        request=s.InspectionInput,
        responses={201: s.InspectionSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Pass", value={"result": "pass", "note": "Lab report 44"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def inspections(self, request, pk=None):
        freeze = self._freeze()
        data = self.parse(s.InspectionInput)

        def run() -> Response:
            inspection = release.inspection_record(inspector=request.user, freeze=freeze, **data)
            return Response(s.InspectionSerializer(inspection).data, status=201)

        return idempotent(request, run)

    @extend_schema(
        summary="Events of a freeze",
        description="The freeze's append-only timeline, oldest first.",
        parameters=[
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        responses={200: s.FreezeEventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=OldestFirstCursorPage)
    def events(self, request, pk=None):
        freeze = self._freeze()
        queryset = FreezeEvent.objects.filter(freeze=freeze).select_related("actor")
        return self.paged(queryset, s.FreezeEventSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="Freeze events",
        description="Every freeze event newest first (append-only), optionally of one freeze or "
        "kind: what an ERP polls when it does not take webhooks.",
        parameters=[
            OpenApiParameter("freeze", int),
            OpenApiParameter("kind", str, enum=FreezeEvent.Kind.values),
        ],
    )
)
class FreezeEventViewSet(ApiViewSet):
    serializer_class = s.FreezeEventSerializer
    required_perms = {"list": ("freezes.view_freezeevent",)}

    def list(self, request):
        queryset = FreezeEvent.objects.select_related("actor")
        freeze = request.query_params.get("freeze")
        if freeze is not None:
            queryset = queryset.filter(freeze_id=parse_id(freeze) or 0)
        kind = request.query_params.get("kind")
        if kind:
            queryset = queryset.filter(kind=kind if kind in FreezeEvent.Kind.values else "-")
        return self.paged(queryset, s.FreezeEventSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="Release requests",
        description="Newest first; `status=pending` is the approval queue.",
        parameters=[OpenApiParameter("status", str, enum=ReleaseRequest.Status.values)],
    ),
)
class ReleaseRequestViewSet(ApiViewSet):
    queryset = ReleaseRequest.objects.none()
    serializer_class = s.ReleaseRequestSerializer
    required_perms = {
        "list": ("freezes.view_releaserequest",),
        "approve": ("freezes.approve_release",),
        "reject": ("freezes.approve_release",),
        "cancel": ("freezes.request_release",),
    }

    def _request(self) -> ReleaseRequest:
        found = (
            ReleaseRequest.objects.select_related("freeze", "requested_by")
            .filter(pk=self.object_id())
            .first()
        )
        if found is None:
            raise Http404
        return found

    def _out(self, pk: int) -> Response:
        return Response(s.ReleaseRequestSerializer(ReleaseRequest.objects.get(pk=pk)).data)

    def list(self, request):
        queryset = ReleaseRequest.objects.all()
        wanted = request.query_params.get("status")
        if wanted in ReleaseRequest.Status.values:
            queryset = queryset.filter(status=wanted)
        return self.paged(queryset, s.ReleaseRequestSerializer)

    @extend_schema(
        summary="Approve a release",
        description="Releases the stock through the ledger. 403 `approval_refused` for the "
        "requester or the freezer; 409 `already_decided`. Accepts `Idempotency-Key`.",
        request=s.DecisionInput,
        responses={200: s.ReleaseRequestSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Approve", value={"comment": "Lab report attached"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        found = self._request()
        comment = self.parse(s.DecisionInput)["comment"]

        def run() -> Response:
            release.release_request_approve(request=found, approver=request.user, comment=comment)
            return self._out(found.pk)

        return idempotent(request, run)

    @extend_schema(
        summary="Reject a release",
        description="The stock stays frozen; a comment is required.",
        request=s.DecisionInput,
        responses={200: s.ReleaseRequestSerializer},
        examples=[
            OpenApiExample(
                "Reject", value={"comment": "Still under investigation"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        found = self._request()
        comment = self.parse(s.DecisionInput)["comment"]
        release.release_request_reject(request=found, approver=request.user, comment=comment)
        return self._out(found.pk)

    @extend_schema(
        summary="Withdraw a release request",
        description="Only the requester, while pending.",
        request=None,
        responses={200: s.ReleaseRequestSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        found = self._request()
        release.release_request_cancel(request=found, user=request.user)
        return self._out(found.pk)
