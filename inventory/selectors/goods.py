"""Reads of the goods catalogue for screens, exports and the API.

Every list selector returns a fixed number of queries whatever the page size: relations come
with ``select_related``/``prefetch_related``, the category tree is one query. The catalogue is
the same for every user (stores scope stock, not goods), so these selectors take no user; the
import and export history ones do.

A goods typed or scanned by a person (a SKU or a barcode) is found in one place:
``goods_with_code`` / ``goods_by_code``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from inventory.models import Batch, Brand, Category, ComboComponent, ExportRecord, Goods, ImportJob
from wms.pagination import KeysetPage, keyset_page

PATH_SEPARATOR = " > "


@dataclass
class CategoryNode:
    pk: int
    parent_id: int | None
    name: str
    path: str = ""
    depth: int = 0
    children: list[int] = field(default_factory=list)


class CategoryTree:
    """All categories, loaded with one query: paths ("Drinks > Beer"), depth-first order, and the
    ids under a category (itself and every descendant)."""

    def __init__(self) -> None:
        rows = Category.objects.values_list("pk", "parent_id", "name")
        self.nodes = {pk: CategoryNode(pk, parent_id, name) for pk, parent_id, name in rows}
        roots = []
        for node in self.nodes.values():
            parent = self.nodes.get(node.parent_id)
            if parent is None:
                roots.append(node.pk)
            else:
                parent.children.append(node.pk)
        self.ordered: list[CategoryNode] = []
        stack = [(pk, 0, "") for pk in sorted(roots, key=self._name, reverse=True)]
        seen: set[int] = set()
        while stack:
            pk, depth, prefix = stack.pop()
            if pk in seen:
                continue
            seen.add(pk)
            node = self.nodes[pk]
            node.depth = depth
            node.path = f"{prefix}{PATH_SEPARATOR}{node.name}" if prefix else node.name
            self.ordered.append(node)
            for child in sorted(node.children, key=self._name, reverse=True):
                stack.append((child, depth + 1, node.path))

    def _name(self, pk: int) -> str:
        return self.nodes[pk].name.casefold()

    def path(self, pk: int | None) -> str:
        node = self.nodes.get(pk) if pk is not None else None
        return node.path if node else ""

    def descendant_ids(self, pk: int) -> list[int]:
        if pk not in self.nodes:
            return []
        found, stack = [], [pk]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            stack.extend(self.nodes[current].children)
        return found

    def choices(self) -> list[tuple[int, str]]:
        return [(node.pk, node.path) for node in self.ordered]


def category_descendant_ids(root_ids: Iterable[int]) -> set[int]:
    """The categories ``root_ids`` and all their descendants (one query for the whole tree)."""
    roots = {pk for pk in root_ids if pk is not None}
    if not roots:
        return set()
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found = set(roots)
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def category_tree() -> CategoryTree:
    """Every category with its path and sub-categories: one query."""
    return CategoryTree()


def brand_choices() -> list[tuple[int, str]]:
    """(id, name) of every brand, by name: one query."""
    return list(Brand.objects.order_by("name").values_list("pk", "name"))


def category_get(pk: int) -> Category | None:
    """One category, or None."""
    return Category.objects.filter(pk=pk).first()


def brand_get(pk: int) -> Brand | None:
    """One brand, or None."""
    return Brand.objects.filter(pk=pk).first()


def goods_queryset() -> QuerySet[Goods]:
    """Goods as the list and the exports show them (brand joined; categories from the tree)."""
    return Goods.objects.select_related("brand")


def goods_search(queryset: QuerySet[Goods], text: str) -> QuerySet[Goods]:
    """SKU or name containing ``text`` (case-insensitive), or the exact barcode."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__icontains=text) | Q(name__icontains=text) | Q(barcode=text))


def goods_page(
    queryset: QuerySet[Goods], *, cursor: str | None = None, per_page: int = 50
) -> KeysetPage:
    """A page of ``queryset`` in SKU order (SKUs are unique, case-insensitively), keyset-paged
    on the SKU (``wms.pagination``): one query."""
    return keyset_page(queryset, order=("sku",), cursor=cursor, per_page=per_page)


def goods_get(pk: int) -> Goods | None:
    """One goods with its brand and category, or None."""
    return Goods.objects.select_related("brand", "category").filter(pk=pk).first()


def goods_components(goods: Goods) -> list[ComboComponent]:
    """The component lines of a combo, with the component goods: one query."""
    return list(
        ComboComponent.objects.filter(combo=goods)
        .select_related("component")
        .order_by("component__sku")
    )


def goods_part_of(goods: Goods) -> list[ComboComponent]:
    """The lines of the combos this goods is part of, with the combo goods: one query."""
    return list(
        ComboComponent.objects.filter(component=goods)
        .select_related("combo")
        .order_by("combo__sku")
    )


def goods_batches(goods: Goods, *, limit: int | None = None) -> list[Batch]:
    """Batches of one goods, soonest expiry first: one query."""
    queryset = Batch.objects.filter(goods=goods).order_by("expiry_date", "batch_no")
    return list(queryset[:limit] if limit else queryset)


def batch_get(goods: Goods, pk: int) -> Batch | None:
    """A batch of this goods (None for another goods' batch)."""
    return Batch.objects.select_related("goods").filter(goods=goods, pk=pk).first()


def goods_with_code(code: str, *, barcode: bool = True) -> QuerySet[Goods]:
    """Goods whose SKU is ``code`` (any case; spaces trimmed and collapsed as the catalogue
    stores SKUs) or, with ``barcode``, whose barcode is exactly ``code``. Empty for a blank
    code. SKUs and barcodes are unique, so this is at most two goods."""
    code = " ".join((code or "").split())
    if not code:
        return Goods.objects.none()
    condition = Q(sku__iexact=code)
    if barcode:
        condition |= Q(barcode=code)
    return Goods.objects.filter(condition)


def goods_by_code(code: str, *, barcode: bool = True) -> Goods | None:
    """The goods a person means by ``code`` (see ``goods_with_code``), with its category and
    brand, or None (one query). A SKU that is also another goods' barcode finds the older."""
    return (
        goods_with_code(code, barcode=barcode)
        .select_related("category", "brand")
        .order_by("pk")
        .first()
    )


def import_jobs_for(user, *, limit: int = 50) -> list[ImportJob]:
    """The user's recent import jobs (everyone's for holders of ``view_importjob``)."""
    queryset = ImportJob.objects.select_related("user")
    if not user.has_perm("inventory.view_importjob"):
        queryset = queryset.filter(user=user)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def import_job_get(user, pk: int) -> ImportJob | None:
    """A job the user may see: his own, or any for holders of ``view_importjob``."""
    queryset = ImportJob.objects.select_related("user").filter(pk=pk)
    if not user.has_perm("inventory.view_importjob"):
        queryset = queryset.filter(user=user)
    return queryset.first()


def export_records_for(user, *, limit: int = 100) -> list[ExportRecord]:
    """The user's export history (everyone's for holders of ``view_exportrecord``)."""
    queryset = ExportRecord.objects.select_related("user")
    if not user.has_perm("inventory.view_exportrecord"):
        queryset = queryset.filter(user=user)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def export_record_get(user, pk: int) -> ExportRecord | None:
    """An export the user may download again: his own, or any with ``view_exportrecord``."""
    queryset = ExportRecord.objects.filter(pk=pk)
    if not user.has_perm("inventory.view_exportrecord"):
        queryset = queryset.filter(user=user)
    return queryset.first()
