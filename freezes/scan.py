"""Freeze numbers (``FRZ-000004``) for the scan box: ``inventory.selectors.scan`` opens them
through the finder registered here, without importing freezes."""

from django.urls import reverse

from freezes.models import Freeze


def _find(user, pk: int):
    from inventory.selectors.scan import DocumentHit

    if not user.has_perm("freezes.view_freeze"):
        return None
    freeze = Freeze.objects.filter(pk=pk).only("pk", "status", "reason").first()
    if freeze is None:
        return None
    return DocumentHit(
        number=freeze.number,
        title=f"{Freeze._meta.verbose_name} · {freeze.get_reason_display()}",
        url=reverse("freezes:freeze-detail", args=[pk]),
        status=freeze.get_status_display(),
    )


def register() -> None:
    from inventory.selectors.scan import register_document_finder

    register_document_finder(Freeze.PREFIX, _find)
