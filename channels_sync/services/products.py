"""Product sync (全量同步 / 增量同步) and matching listings to goods.

``product_sync_start(shop, mode, user)`` creates a ``ProductSyncRun`` (the screen polls its
progress) and queues the task; ``product_sync_run(run_id)`` pulls the platform's products page
by page: upserts listings by (shop, variant id) and matches new or unmatched ones by SKU then
barcode (never one a person unlinked), a constant number of statements per page; on a full
sync it marks listings the platform no longer has as deleted (never deletes them). An
incremental sync asks for changes since the last successful sync minus ``OVERLAP``
so nothing falls between two runs. A listing newly matched queues its goods for a push.

Deletions (listings are marked ``deleted``, never deleted):
- a full sync marks every listing the platform no longer lists;
- an incremental sync asks the platform's deletion feed where it documents one
  (``PlatformAdapter.deleted_since``: Shopify's ``events`` with ``action:'destroy'``), and takes
  a product reported with status "deleted" (the own-shop REST contract's soft delete) as such;
- and since a feed can miss things (a variant removed from a live product, a shop that drops
  deleted rows), an incremental sync becomes a full reconcile when the shop's last full sync
  is older than ``RECONCILE_AFTER`` (``WMS_PRODUCT_RECONCILE_HOURS``, default 24).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

from django.db import models, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels_sync import adapters
from channels_sync.adapters.base import PlatformAdapter, PlatformProduct
from channels_sync.adapters.http import PlatformError
from channels_sync.exceptions import ChannelError
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import Listing, ListingLinkEvent, ProductSyncRun, Shop
from inventory.models import Goods
from wms.bulk import bulk_update_rows
from wms.jobs import JobKind, claim_values, job_claim
from wms.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
RECONCILE_AFTER = timedelta(hours=int(os.environ.get("WMS_PRODUCT_RECONCILE_HOURS", "24")))
JOB_KIND = "channels_sync.product_sync"  # the job's advisory lock and sweeper name
RUN_TASK = "channels_sync.product_sync"  # the Celery task, queued by name after commit
AUTO_MATCH_CHUNK = 500  # listings matched per transaction by the bulk action


def product_sync_start(*, shop: Shop, mode: str, user) -> ProductSyncRun:
    """Queue a product sync; refuses while another sync of the shop is queued or running."""
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)  # fresh: its last sync time
        if ProductSyncRun.objects.filter(shop=shop, status__in=["queued", "running"]).exists():
            raise ChannelError(_("A product sync of this shop is already running."))
        if mode == ProductSyncRun.Mode.INCREMENTAL and _reconcile_due(shop):
            mode = ProductSyncRun.Mode.FULL
        run = ProductSyncRun.objects.create(
            shop=shop,
            mode=mode,
            started_by=user,
            since=(shop.last_product_sync_at - OVERLAP)
            if mode == ProductSyncRun.Mode.INCREMENTAL
            else None,
        )
        enqueue_on_commit(RUN_TASK, run.pk)
    return run


def _reconcile_due(shop: Shop) -> bool:
    """An incremental sync is made a full one: never synced, or no full sync for a while."""
    if shop.last_product_sync_at is None:
        return True
    last_full = (
        ProductSyncRun.objects.filter(
            shop=shop, mode=ProductSyncRun.Mode.FULL, status=ProductSyncRun.Status.DONE
        )
        .order_by("-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return last_full is None or last_full < timezone.now() - RECONCILE_AFTER


def product_sync_run(run_id: int, *, adapter: PlatformAdapter | None = None) -> ProductSyncRun:
    """Run a queued sync (safe to run twice: a finished run returns at once).

    Runs under the run's job claim (``wms.jobs.job_claim``: an advisory lock on this worker's
    database session) and takes the run by compare-and-set from QUEUED, or from RUNNING when the
    claim was free (its worker died), with ``attempts + 1`` and a heartbeat. A worker killed
    mid-sync leaves the run RUNNING with its lock gone: the job sweeper (``wms.sweep_jobs``)
    requeues it (``product_sync_recover``), so the shop's next sync is never blocked for good.
    A second delivery while the first runs does nothing."""
    with job_claim(JOB_KIND, run_id) as claimed:
        if not claimed:
            logger.info("product sync %s is being run by another worker", run_id)
            return ProductSyncRun.objects.get(pk=run_id)
        taken = ProductSyncRun.objects.filter(
            pk=run_id, status__in=[ProductSyncRun.Status.QUEUED, ProductSyncRun.Status.RUNNING]
        ).update(status=ProductSyncRun.Status.RUNNING, **claim_values())
        run = ProductSyncRun.objects.select_related("shop").get(pk=run_id)
        if not taken:
            return run
        return _run(run, adapter)


def _run(run: ProductSyncRun, adapter: PlatformAdapter | None) -> ProductSyncRun:
    shop = run.shop
    started = timezone.now()
    own = adapter is None
    adapter = adapter or adapters.for_shop(shop)
    seen: set[str] = set()  # live products the platform listed
    received: set[str] = set()
    soft_deleted = 0
    try:
        for page in adapter.iter_product_pages(run.since):
            if page and all(p.variant_ref in received for p in page):
                raise PlatformError("the platform sent the same page twice", transient=False)
            counts = _store_page(shop, page)
            soft_deleted += counts["deleted"]
            received.update(p.variant_ref for p in page)
            seen.update(p.variant_ref for p in page if p.status != Listing.Status.DELETED)
            ProductSyncRun.objects.filter(pk=run.pk).update(
                done=len(seen),
                total=max(len(seen), run.total),
                created=run.created + counts["created"],
                updated=run.updated + counts["updated"],
                matched=run.matched + counts["matched"],
                heartbeat_at=timezone.now(),
            )
            run.refresh_from_db()
        live = Listing.objects.filter(shop=shop).exclude(status=Listing.Status.DELETED)
        deleted = 0
        if run.mode == ProductSyncRun.Mode.FULL:
            deleted = live.exclude(variant_ref__in=list(seen)).update(status=Listing.Status.DELETED)
        elif run.since is not None:
            gone = adapter.deleted_since(run.since)
            if gone is not None and (gone.product_refs or gone.variant_refs):
                deleted = live.filter(
                    Q(product_ref__in=list(gone.product_refs))
                    | Q(variant_ref__in=list(gone.variant_refs))
                ).update(status=Listing.Status.DELETED)
        ProductSyncRun.objects.filter(pk=run.pk).update(
            status=ProductSyncRun.Status.DONE,
            deleted=deleted + soft_deleted,
            total=len(seen),
            done=len(seen),
            finished_at=timezone.now(),
        )
        Shop.objects.filter(pk=shop.pk).update(last_product_sync_at=started)
    except PlatformError as exc:
        ProductSyncRun.objects.filter(pk=run.pk).update(
            status=ProductSyncRun.Status.FAILED, message=str(exc)[:2000], finished_at=timezone.now()
        )
    finally:
        if own:
            adapter.close()
    run.refresh_from_db()
    return run


def product_sync_recover(*, job: ProductSyncRun, give_up: bool) -> None:
    """The sweeper's call for a RUNNING sync whose worker died (``wms.jobs.jobs_sweep``; the run
    row is locked). Listings already stored stay (each page commits on its own and a sync only
    upserts), so the run goes back to the queue and starts over; with ``give_up`` it ends
    FAILED saying so, and the shop can be synced again."""
    if give_up:
        ProductSyncRun.objects.filter(pk=job.pk).update(
            status=ProductSyncRun.Status.FAILED,
            message=_(
                "The background worker stopped %(count)s times during this sync, so it was "
                "given up. Start a new sync, or tell your administrator."
            )
            % {"count": job.attempts},
            finished_at=timezone.now(),
        )
        return
    ProductSyncRun.objects.filter(pk=job.pk).update(
        status=ProductSyncRun.Status.QUEUED, heartbeat_at=None, done=0
    )
    enqueue_on_commit(RUN_TASK, job.pk)


def job_kind() -> JobKind:
    """What the job sweeper needs to know of product syncs (registered in the app's ready)."""
    return JobKind(
        name=JOB_KIND,
        model=ProductSyncRun,
        running=(ProductSyncRun.Status.RUNNING,),
        recover=product_sync_recover,
    )


def _store_page(shop: Shop, page: list[PlatformProduct]) -> dict[str, int]:
    """Upsert one page of the platform's products as listings and match the unmatched ones, in
    one transaction and a constant number of statements whatever the page size: the page's
    existing listings locked (``FOR UPDATE``), one INSERT of the new ones, one UPDATE of the
    others (``wms.bulk.bulk_update_rows``), then ``_auto_match``. A variant listed twice in a
    page is stored once (the last)."""
    counts = {"created": 0, "updated": 0, "matched": 0, "deleted": 0}
    anew: set[int] = set()  # goods of matched listings to push again (``_sells_anew``)
    if not page:
        return counts
    now = timezone.now()
    with transaction.atomic():
        existing = {
            row.variant_ref: row
            for row in Listing.objects.select_for_update()
            .filter(shop=shop, variant_ref__in=[p.variant_ref for p in page])
            .order_by("pk")
        }
        new: dict[str, Listing] = {}
        changed: dict[str, Listing] = {}
        for product in page:
            status = (
                product.status
                if product.status in {"active", "draft", "archived", "deleted"}
                else Listing.Status.ACTIVE
            )
            fields = {
                "product_ref": product.product_ref,
                "item_ref": product.item_ref,
                "sku": product.sku,
                "barcode": product.barcode,
                "title": product.title,
                "status": status,
                "platform_updated_at": product.updated_at,
            }
            row = existing.get(product.variant_ref) or new.get(product.variant_ref)
            if status == Listing.Status.DELETED and (row is None or row.status != status):
                counts["deleted"] += 1
            if row is None:
                new[product.variant_ref] = Listing(
                    shop=shop, variant_ref=product.variant_ref, **fields
                )
                counts["created"] += 1
                continue
            if row.pk is not None:
                if row.goods_id is not None and _sells_anew(row, product.item_ref, status):
                    # what we last pushed was to another item, or to a listing that was gone:
                    # the platform's value is unknown; the goods go out again
                    row.last_pushed_quantity = None
                    anew.add(row.goods_id)
                row.synced_at = now
                changed[product.variant_ref] = row
                counts["updated"] += 1
            for name, value in fields.items():
                setattr(row, name, value)
        created = Listing.objects.bulk_create(list(new.values()))
        bulk_update_rows(
            Listing,
            list(changed.values()),
            [*_SYNCED_FIELDS, "synced_at", "last_pushed_quantity"],
        )
        counts["matched"] = _auto_match([*created, *changed.values()])
        if anew:
            from channels_sync.services.push import goods_behind

            mark_goods_dirty(goods_behind(sorted(anew)), shop_ids=[shop.pk])
    return counts


# What a product sync writes onto a listing (``_store_page``).
_SYNCED_FIELDS = (
    "product_ref",
    "item_ref",
    "sku",
    "barcode",
    "title",
    "status",
    "platform_updated_at",
)


def _sells_anew(row: Listing, item_ref: str, status: str) -> bool:
    """A matched listing whose stock the platform now keeps on another inventory item, or that
    comes back after being deleted on the platform: its quantity must be pushed again."""
    deleted = Listing.Status.DELETED
    return row.item_ref != item_ref or (row.status == deleted and status != deleted)


def _auto_match(rows: list[Listing]) -> int:
    """The automatic matching of ``rows`` (listings the caller has locked, or created in its
    transaction): each unmatched one gets the single active goods with its SKU (compared
    case-insensitively, by the database), else the single active goods with its barcode —
    except a listing a person unlinked (an ``unlink`` event): the match was wrong, and matching
    it again at every sync would undo them; only a person links it again. Sets ``goods`` and
    ``matched_by`` (one UPDATE), records an ``auto`` link event each (one INSERT) and queues
    the goods for a push. Four queries to find the goods whatever the number of rows. Returns
    the number matched."""
    rows = [row for row in rows if row.goods_id is None and (row.sku or row.barcode)]
    if not rows:
        return 0
    unlinked = set(
        ListingLinkEvent.objects.filter(
            listing_id__in=[row.pk for row in rows], action=ListingLinkEvent.Action.UNLINK
        ).values_list("listing_id", flat=True)
    )
    rows = [row for row in rows if row.pk not in unlinked]
    # The listings' SKUs upper-cased by the database, as the goods' are (no Python casing).
    sku_key = dict(
        Listing.objects.filter(pk__in=[row.pk for row in rows], sku__gt="")
        .annotate(key=Upper("sku"))
        .values_list("pk", "key")
    )
    by_sku: dict[str, list[int]] = {}
    for key, goods_id in (
        Goods.objects.annotate(key=Upper("sku"))  # the goods_sku_ci_unique index
        .filter(key__in=sorted(set(sku_key.values())), is_active=True)
        .values_list("key", "pk")
    ):
        by_sku.setdefault(key, []).append(goods_id)
    by_barcode: dict[str, list[int]] = {}
    barcodes = sorted({row.barcode for row in rows if row.barcode})
    if barcodes:
        for barcode, goods_id in Goods.objects.filter(
            barcode__in=barcodes, is_active=True
        ).values_list("barcode", "pk"):
            by_barcode.setdefault(barcode, []).append(goods_id)
    matched: list[Listing] = []
    for row in rows:
        found = by_sku.get(sku_key.get(row.pk, ""), [])
        if len(found) == 1:
            row.goods_id, row.matched_by = found[0], Listing.MatchedBy.SKU
        elif len(by_barcode.get(row.barcode, [])) == 1:
            row.goods_id, row.matched_by = by_barcode[row.barcode][0], Listing.MatchedBy.BARCODE
        else:
            continue
        matched.append(row)
    if not matched:
        return 0
    bulk_update_rows(Listing, matched, ["goods", "matched_by"])
    ListingLinkEvent.objects.bulk_create(
        ListingLinkEvent(
            listing=row, action=ListingLinkEvent.Action.AUTO, goods_after_id=row.goods_id
        )
        for row in matched
    )
    by_shop: dict[int, set[int]] = {}
    for row in matched:
        by_shop.setdefault(row.shop_id, set()).add(row.goods_id)
    for shop_id, goods_ids in sorted(by_shop.items()):
        mark_goods_dirty(_push_goods_of(sorted(goods_ids)), shop_ids=[shop_id])
    return len(matched)


def listing_link(*, listing: Listing, goods: Goods, user) -> Listing:
    """Link a listing to goods by hand (combo goods allowed). Audited; queues a push."""
    if not goods.is_active:
        raise ChannelError(_("Goods %(sku)s is inactive.") % {"sku": goods.sku}, field="goods")
    with transaction.atomic():
        row = Listing.objects.select_for_update().get(pk=listing.pk)
        before = row.goods_id
        row.goods, row.matched_by = goods, Listing.MatchedBy.MANUAL
        row.save(update_fields=["goods", "matched_by"])
        ListingLinkEvent.objects.create(
            listing=row,
            action=ListingLinkEvent.Action.LINK,
            goods_before_id=before,
            goods_after=goods,
            user=user,
        )
        mark_goods_dirty(_push_goods_of([goods.pk]), shop_ids=[row.shop_id])
    return row


def listing_unlink(*, listing: Listing, user) -> Listing:
    """Remove the goods link of a listing (it is no longer pushed). Audited."""
    with transaction.atomic():
        row = Listing.objects.select_for_update().get(pk=listing.pk)
        if row.goods_id is None:
            raise ChannelError(_("This listing is not linked."))
        before = row.goods_id
        row.goods, row.matched_by = None, Listing.MatchedBy.NONE
        row.save(update_fields=["goods", "matched_by"])
        ListingLinkEvent.objects.create(
            listing=row, action=ListingLinkEvent.Action.UNLINK, goods_before_id=before, user=user
        )
    return row


class SuggestionReason(models.TextChoices):
    """Why a goods is suggested for a listing, strongest first (the issue's order: SKU, then
    barcode, then the weaker hints)."""

    SKU = "sku", gettext_lazy("Same SKU")
    BARCODE = "barcode", gettext_lazy("Same barcode")
    SIMILAR_SKU = "similar_sku", gettext_lazy("Similar SKU")
    NAME_WORD = "name_word", gettext_lazy("Word of the title in the name")


STRONG_REASONS = (SuggestionReason.SKU, SuggestionReason.BARCODE)
_MATCHED_BY = {
    SuggestionReason.SKU: Listing.MatchedBy.SKU,
    SuggestionReason.BARCODE: Listing.MatchedBy.BARCODE,
}
_RANK = {reason: rank for rank, reason in enumerate(SuggestionReason)}
#: Candidate goods read for one page of listings: every exact match comes first, so only
#: weak hints are cut when a common title word matches a large catalogue.
SUGGESTION_ROWS = 1000


@dataclass(frozen=True)
class Suggestion:
    """A goods that may be a listing, with the strongest reason it matched."""

    goods: Goods
    reason: str

    @property
    def is_strong(self) -> bool:
        return self.reason in STRONG_REASONS

    @property
    def reason_label(self) -> str:
        return SuggestionReason(self.reason).label


def _sku_key(value: str) -> str:
    return (value or "").strip().upper()


def _title_words(listing: Listing) -> list[str]:
    return [w for w in (listing.title or "").split() if len(w) > 3][:3]


def _reason(listing: Listing, goods: Goods) -> str | None:
    sku, goods_sku = _sku_key(listing.sku), _sku_key(goods.sku)
    barcode = (listing.barcode or "").strip()
    if sku and sku == goods_sku:
        return SuggestionReason.SKU
    if barcode and barcode == (goods.barcode or "").strip():
        return SuggestionReason.BARCODE
    if sku and (sku in goods_sku or goods_sku == sku.split("-")[0]):
        return SuggestionReason.SIMILAR_SKU
    name = (goods.name or "").lower()
    if any(word.lower() in name for word in _title_words(listing)):
        return SuggestionReason.NAME_WORD
    return None


def listings_suggestions(
    listings: list[Listing], *, limit: int = 5, strong_only: bool = False
) -> dict[int, list[Suggestion]]:
    """Active goods that may be each listing, strongest first: exact SKU (case-insensitive,
    trimmed), exact barcode, then SKU containing or prefix of the listing's, then a word of the
    title in the goods name; by goods SKU within a reason. At most ``limit`` per listing;
    ``strong_only`` keeps exact SKU and barcode matches (all of them: the bulk action must see
    when there are two). One query whatever the number of listings; writes nothing."""
    listings = [row for row in listings if row.pk is not None]
    skus = sorted({_sku_key(row.sku) for row in listings} - {""})
    barcodes = sorted({(row.barcode or "").strip() for row in listings} - {""})
    strong = Q(sku_key__in=skus) | Q(barcode__in=barcodes)
    query = Q(pk__in=[])
    if skus:
        query |= Q(sku_key__in=skus)
    if barcodes:
        query |= Q(barcode__in=barcodes)
    if not strong_only:
        for row in listings:
            sku = (row.sku or "").strip()
            if sku:
                query |= Q(sku__icontains=sku) | Q(sku__iexact=sku.split("-")[0])
            for word in _title_words(row):
                query |= Q(name__icontains=word)
    candidates = list(
        Goods.objects.annotate(
            sku_key=Upper("sku"),  # the goods_sku_ci_unique index
            strong_rank=Case(When(strong, then=Value(0)), default=Value(1)),
        )
        .filter(query, is_active=True)
        .order_by("strong_rank", "sku")[:SUGGESTION_ROWS]
    )
    result: dict[int, list[Suggestion]] = {}
    for row in listings:
        found = []
        for goods in candidates:
            reason = _reason(row, goods)
            if reason is not None and (not strong_only or reason in STRONG_REASONS):
                found.append(Suggestion(goods=goods, reason=reason))
        found.sort(key=lambda s: (_RANK[SuggestionReason(s.reason)], s.goods.sku))
        result[row.pk] = found if strong_only else found[:limit]
    return result


def listing_suggestions(listing: Listing, *, limit: int = 5) -> list[Suggestion]:
    """``listings_suggestions`` for one listing (one query)."""
    return listings_suggestions([listing], limit=limit).get(listing.pk, [])


@dataclass(frozen=True)
class SuggestedLinkResult:
    linked: int
    ambiguous: int
    weak: int


def listings_link_suggested(*, shop: Shop, listing_ids: list[int], user) -> SuggestedLinkResult:
    """Bulk action: link each unmatched listing of ``shop`` among ``listing_ids`` to its goods
    when exactly one active goods has the same SKU or barcode; the others are counted as
    ambiguous (several such goods) or weak (only similar SKUs or title words, or nothing).
    One transaction: locks the listings (pk order), links them as ``listing_link`` does (a
    ``link`` event each, with the user) and queues their goods for a push. A constant number
    of queries whatever the number of listings."""
    with transaction.atomic():
        rows = list(
            Listing.objects.select_for_update()
            .filter(shop=shop, pk__in=list(listing_ids), goods__isnull=True)
            .order_by("pk")
        )
        found = listings_suggestions(rows, strong_only=True)
        linked: list[Listing] = []
        ambiguous = weak = 0
        for row in rows:
            goods = {s.goods.pk: s for s in found.get(row.pk, [])}
            if not goods:
                weak += 1
            elif len(goods) > 1:
                ambiguous += 1
            else:
                best = found[row.pk][0]
                row.goods, row.matched_by = best.goods, _MATCHED_BY[best.reason]
                linked.append(row)
        if linked:
            bulk_update_rows(Listing, linked, ["goods", "matched_by"])
            ListingLinkEvent.objects.bulk_create(
                ListingLinkEvent(
                    listing=row,
                    action=ListingLinkEvent.Action.LINK,
                    goods_after=row.goods,
                    user=user,
                )
                for row in linked
            )
            mark_goods_dirty(_push_goods_of([row.goods_id for row in linked]), shop_ids=[shop.pk])
    return SuggestedLinkResult(linked=len(linked), ambiguous=ambiguous, weak=weak)


def _push_goods_of(goods_ids: list[int]) -> list[int]:
    """The goods whose stock a link to ``goods_ids`` pushes: a combo's components, else itself."""
    from inventory.models import ComboComponent

    parts: dict[int, list[int]] = {}
    for combo_id, component_id in ComboComponent.objects.filter(
        combo_id__in=list(goods_ids)
    ).values_list("combo_id", "component_id"):
        parts.setdefault(combo_id, []).append(component_id)
    return sorted({c for g in goods_ids for c in parts.get(g, [g])})


def listings_auto_match_all(*, shop: Shop) -> int:
    """Run the automatic matching over every unmatched listing of the shop (bulk action; a
    listing a person unlinked is left to a person), in chunks of ``AUTO_MATCH_CHUNK``: each
    chunk locked (primary-key order) and matched in one transaction with a constant number of
    queries (``_auto_match``)."""
    matched = 0
    after = 0
    while True:
        with transaction.atomic():
            rows = list(
                Listing.objects.select_for_update()
                .filter(shop=shop, goods__isnull=True, pk__gt=after)
                .exclude(status=Listing.Status.DELETED)
                .order_by("pk")[:AUTO_MATCH_CHUNK]
            )
            if not rows:
                return matched
            after = rows[-1].pk
            matched += _auto_match(rows)
