"""Goods import and export at 100,000 rows (issue 3), the app beside plain code, same run, same DB.

Data: ``scale * 100,000`` goods in a 10-column xlsx written by openpyxl (SKU, name, barcode,
category path, brand, unit, weight, volume, shelf life, active), over 50 brands and 60
categories (10 roots with 5 children).

* ``import_goods_100k``: new goods. App: the import's commit (``run_import(dry_run=False)``, after
  its dry run, as the screens do it), in a fresh subprocess so its peak RSS is its own. Baseline:
  openpyxl read-only iteration + ``bulk_create`` in batches of 2,000 (brand and category looked up
  in dicts), in one transaction. Extra figures: the dry run, the whole flow (dry run + commit)
  against the same baseline, and the peak RSS of the import process.
* ``import_goods_100k_dryrun``: the dry run alone against the same baseline.
* ``import_goods_100k_upsert``: 50,000 goods exist; the sheet changes their names and weights and
  adds 50,000 new ones. Baseline: the same plain read, one query per batch for the ids of existing
  SKUs (the SKU is unique on UPPER(sku), an expression ``ON CONFLICT`` cannot target from
  Django), then ``bulk_create(update_conflicts=True, unique_fields=["id"])``.
* ``export_goods_100k``: 100,000 goods to xlsx. App: ``exports.export_create`` (history record
  included) in a subprocess for its peak RSS. Baseline: ``values_list`` + openpyxl write-only.

Every line prints rows/s; import lines print ``peak_mib`` (ru_maxrss of the import subprocess,
which includes Django itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.db.models.functions import Upper

from bench.common import check, peak_rss_mib, report, scaled, timed

BATCH = 2000
BRANDS = 50
ROOTS = 10
CHILDREN = 5
COLUMNS = [
    "sku",
    "name",
    "barcode",
    "category",
    "brand",
    "unit",
    "weight",
    "volume",
    "shelf_life_days",
    "is_active",
]


# --- data -------------------------------------------------------------------------------------


def _catalogue() -> tuple[list[str], list[str]]:
    from inventory.models import Brand, Category

    brands = [f"Brand {index:02d}" for index in range(BRANDS)]
    Brand.objects.bulk_create([Brand(name=name) for name in brands], ignore_conflicts=True)
    paths = []
    for root_index in range(ROOTS):
        root, _created = Category.objects.get_or_create(name=f"Root {root_index}", parent=None)
        for child_index in range(CHILDREN):
            Category.objects.get_or_create(name=f"Child {child_index}", parent=root)
            paths.append(f"Root {root_index} > Child {child_index}")
    return brands, paths


def _row(index: int, brands: list[str], paths: list[str], *, changed: bool = False) -> list:
    return [
        f"SKU-{index:07d}",
        f"{'Renamed' if changed else 'Goods'} {index} bench item",
        f"69{index:011d}",
        paths[index % len(paths)],
        brands[index % len(brands)],
        "pcs",
        round(0.25 + (index % 400) / 100 + (0.5 if changed else 0), 2),
        round(0.1 + (index % 50) / 10, 1),
        365 if index % 3 else 180,
        1,
    ]


def _write_sheet(path: Path, rows) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Goods")
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inventory_goods RESTART IDENTITY CASCADE")


def _existing(count: int, brands: list[str], paths: list[str]) -> set[int]:
    """``count`` goods as the upsert sheet finds them (not timed); returns their ids."""
    from inventory.models import Goods

    _truncate()
    brand_ids, category_ids = _lookups()
    batch = []
    for index in range(count):
        row = _row(index, brands, paths)
        batch.append(_goods(row, brand_ids, category_ids))
        if len(batch) >= BATCH:
            Goods.objects.bulk_create(batch)
            batch = []
    if batch:
        Goods.objects.bulk_create(batch)
    return set(Goods.objects.values_list("pk", flat=True))


def _check_upsert(existing: set[int], count: int, side: str) -> None:
    """Counted in the database: the existing goods were updated in place (same ids, new names),
    the others created, none twice."""
    from inventory.models import Goods

    rows = list(Goods.objects.values_list("pk", "name"))
    updated = sum(1 for pk, name in rows if pk in existing and name.startswith("Renamed "))
    created = sum(1 for pk, _name in rows if pk not in existing)
    check(len(rows) == count, f"{side}: {len(rows)} goods after the upsert, {count} expected")
    check(
        updated == len(existing),
        f"{side}: {updated} of {len(existing)} existing goods updated",
    )
    check(
        created == count - len(existing),
        f"{side}: {created} goods created, {count - len(existing)} expected",
    )


# --- the plain baseline -------------------------------------------------------------------------


def _lookups() -> tuple[dict[str, int], dict[str, int]]:
    from inventory.models import Brand, Category

    brand_ids = dict(Brand.objects.values_list("name", "pk"))
    names = dict(Category.objects.values_list("pk", "name"))
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    category_ids = {}
    for pk, name in names.items():
        parent = parents[pk]
        category_ids[f"{names[parent]} > {name}" if parent else name] = pk
    return brand_ids, category_ids


def _goods(row, brand_ids, category_ids):
    from inventory.models import Goods

    return Goods(
        sku=row[0],
        name=row[1],
        barcode=str(row[2] or ""),
        category_id=category_ids.get(row[3]),
        brand_id=brand_ids.get(row[4]),
        unit=row[5],
        weight=Decimal(str(row[6])),
        volume=Decimal(str(row[7])),
        shelf_life_days=int(row[8]),
        is_active=bool(row[9]),
    )


def plain_import(path: Path, *, upsert: bool = False) -> int:
    """openpyxl read-only iteration + bulk_create in batches of 2,000, in one transaction."""
    from openpyxl import load_workbook

    from inventory.models import Goods

    brand_ids, category_ids = _lookups()
    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    next(rows)
    count = 0
    fields = ["name", "barcode", "category", "brand", "unit", "weight", "volume"]
    fields += ["shelf_life_days", "is_active", "updated_at"]

    def flush(batch):
        if upsert:
            ids = dict(
                Goods.objects.annotate(key=Upper("sku"))
                .filter(key__in=[goods.sku.upper() for goods in batch])
                .values_list("key", "pk")
            )
            for goods in batch:
                goods.pk = ids.get(goods.sku.upper())
            Goods.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["id"], update_fields=fields
            )
        else:
            Goods.objects.bulk_create(batch)

    with transaction.atomic():
        batch = []
        for row in rows:
            batch.append(_goods(row, brand_ids, category_ids))
            count += 1
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    workbook.close()
    return count


# --- the app, in its own process --------------------------------------------------------------


def _child_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = dict(os.environ)
    env["WMS_BENCH_DB_NAME"] = settings["NAME"]
    env.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")
    return env


def _in_subprocess(*args: str, inspect=None) -> dict:
    """Run ``python -m bench.import_goods <args>``; ``inspect(result, media_dir)`` runs on its
    JSON result before its media folder is removed (to read back a file it wrote)."""
    connection.close()  # the child must see committed data only
    media = tempfile.mkdtemp(prefix="bench-media-")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "bench.import_goods", *args],
        env={**_child_env(), "WMS_MEDIA_ROOT": media},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        if done.returncode != 0:
            raise RuntimeError(f"bench child failed:\n{done.stdout}\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        check(result.get("debug") is False, "a benchmark child process ran with DEBUG on")
        if inspect is not None:
            inspect(result, Path(media))
        return result
    finally:
        shutil.rmtree(media, ignore_errors=True)


def _child(argv: list[str]) -> None:
    """``python -m bench.import_goods import|dry|export <path>``: run the app, print JSON."""
    import time

    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = os.environ["WMS_BENCH_DB_NAME"]
    mode, path = argv[0], argv[1]
    result: dict = {}
    if mode in ("import", "dry"):
        from inventory.imports.engine import run_import
        from inventory.imports.files import open_sheet
        from inventory.imports.goods import GoodsResource

        started = time.perf_counter()
        dry = run_import(GoodsResource(), open_sheet(path, Path(path).name), dry_run=True)
        result["dry"] = time.perf_counter() - started
        result["dry_summary"] = dry.summary_line()
        if not dry.ok:
            raise SystemExit(f"dry run failed: {dry.refused} {dry.errors[:3]}")
        if mode == "import":
            started = time.perf_counter()
            done = run_import(GoodsResource(), open_sheet(path, Path(path).name), dry_run=False)
            result["commit"] = time.perf_counter() - started
            result["summary"] = done.summary_line()
            if not done.written:
                raise SystemExit(f"commit failed: {done.refused} {done.errors[:3]}")
    elif mode == "export":
        from inventory.imports import exports
        from inventory.models import Goods

        started = time.perf_counter()
        record = exports.export_create(
            user=None,
            resource_key="goods",
            file_format="xlsx",
            queryset=Goods.objects.all(),
            source="bench",
        )
        result["export"] = time.perf_counter() - started
        result["rows"] = record.row_count
        result["bytes"] = record.size
        result["file"] = record.file.name
    from django.conf import settings

    result["peak_mib"] = _high_water_mib()
    result["debug"] = settings.DEBUG
    print(json.dumps(result))


def _high_water_mib() -> float:
    """Peak RSS of this process since its exec (VmHWM). ``ru_maxrss`` would not do here: Linux
    carries it over from the parent across fork and exec, so the child would report the bench
    process's own peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- the benchmarks ---------------------------------------------------------------------------


def _sheet(directory: Path, name: str, rows) -> Path:
    path = directory / name
    _write_sheet(path, rows)
    return path


def _new_goods_run(scale: float, *, dry_only: bool) -> tuple[int, float, dict]:
    count = scaled(100_000, scale)
    brands, paths = _catalogue()
    with tempfile.TemporaryDirectory() as directory:
        path = _sheet(Path(directory), "goods.xlsx", (_row(i, brands, paths) for i in range(count)))
        _truncate()
        baseline, imported = timed(lambda: plain_import(path))
        check(imported == count, f"baseline read {imported} rows of {count}")
        _check_written(count, "baseline")
        _truncate()
        result = _in_subprocess("dry" if dry_only else "import", str(path))
        _check_written(0 if dry_only else count, "dry run" if dry_only else "app")
    _truncate()
    return count, baseline, result


def _check_written(expected: int, side: str) -> None:
    """The goods in the database are the sheet's rows (a dry run writes none)."""
    from inventory.models import Goods

    written = Goods.objects.count()
    check(written == expected, f"{side}: {written} goods in the database, {expected} expected")
    if expected:
        sample = Goods.objects.filter(sku=f"SKU-{expected - 1:07d}").values_list(
            "name", "brand__name", "category__name"
        )
        check(
            list(sample)
            == [
                (
                    f"Goods {expected - 1} bench item",
                    f"Brand {(expected - 1) % BRANDS:02d}",
                    f"Child {((expected - 1) % (ROOTS * CHILDREN)) % CHILDREN}",
                )
            ],
            f"{side}: the last row was written as {list(sample)}",
        )


def import_goods_100k(scale: float) -> None:
    count, baseline, result = _new_goods_run(scale, dry_only=False)
    app = result["commit"]
    whole = result["dry"] + result["commit"]
    report(
        "import_goods_100k",
        app,
        baseline,
        rows=count,
        app_rows_per_s=round(count / app),
        baseline_rows_per_s=round(count / baseline),
        dry_run_s=round(result["dry"], 2),
        dry_run_plus_commit_ratio=round(whole / baseline, 2),
        peak_mib=round(result["peak_mib"], 1),
    )


def import_goods_100k_dryrun(scale: float) -> None:
    count, baseline, result = _new_goods_run(scale, dry_only=True)
    app = result["dry"]
    report(
        "import_goods_100k_dryrun",
        app,
        baseline,
        rows=count,
        app_rows_per_s=round(count / app),
        baseline_rows_per_s=round(count / baseline),
        peak_mib=round(result["peak_mib"], 1),
    )


def import_goods_100k_upsert(scale: float) -> None:
    count = scaled(100_000, scale)
    half = count // 2
    brands, paths = _catalogue()
    rows = [_row(i, brands, paths, changed=True) for i in range(half)]
    rows += [_row(i, brands, paths) for i in range(half, count)]
    with tempfile.TemporaryDirectory() as directory:
        path = _sheet(Path(directory), "upsert.xlsx", rows)
        existing = _existing(half, brands, paths)
        baseline, imported = timed(lambda: plain_import(path, upsert=True))
        check(imported == count, f"baseline read {imported} rows of {count}")
        _check_upsert(existing, count, "baseline")
        existing = _existing(half, brands, paths)
        result = _in_subprocess("import", str(path))
        _check_upsert(existing, count, "app")
    _truncate()
    app = result["commit"]
    report(
        "import_goods_100k_upsert",
        app,
        baseline,
        rows=count,
        app_rows_per_s=round(count / app),
        baseline_rows_per_s=round(count / baseline),
        dry_run_s=round(result["dry"], 2),
        dry_run_plus_commit_ratio=round((result["dry"] + app) / baseline, 2),
        summary=f'"{result["summary"]}"',
        peak_mib=round(result["peak_mib"], 1),
    )


def plain_export(path: Path) -> int:
    from openpyxl import Workbook

    from inventory.models import Goods

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Goods")
    sheet.append(COLUMNS)
    count = 0
    values = Goods.objects.order_by("sku").values_list(
        "sku",
        "name",
        "barcode",
        "category__name",
        "brand__name",
        "unit",
        "weight",
        "volume",
        "shelf_life_days",
        "is_active",
    )
    for row in values.iterator(chunk_size=BATCH):
        sheet.append(row)
        count += 1
    workbook.save(path)
    return count


def _rows_in(path: Path) -> int:
    """Data rows (header excluded) of an xlsx file, read back with calamine."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_index(0).to_python()
    return sum(1 for row in rows[1:] if any(cell not in ("", None) for cell in row))


def export_goods_100k(scale: float) -> None:
    count = scaled(100_000, scale)
    brands, paths = _catalogue()
    _existing(count, brands, paths)
    with tempfile.TemporaryDirectory() as directory:
        baseline, exported = timed(lambda: plain_export(Path(directory) / "plain.xlsx"))
        check(_rows_in(Path(directory) / "plain.xlsx") == count, "baseline file row count")
    check(exported == count, f"baseline exported {exported} rows of {count}")

    def read_back(result: dict, media: Path) -> None:
        rows = _rows_in(media / result["file"])
        check(rows == count, f"the exported file holds {rows} goods rows, {count} expected")
        check(result["rows"] == count, f"the export history says {result['rows']} rows")

    result = _in_subprocess("export", "-", inspect=read_back)
    _truncate()
    report(
        "export_goods_100k",
        result["export"],
        baseline,
        rows=count,
        app_rows_per_s=round(count / result["export"]),
        baseline_rows_per_s=round(count / baseline),
        file_mib=round(result["bytes"] / 2**20, 1),
        peak_mib=round(result["peak_mib"], 1),
        bench_process_peak_mib=round(peak_rss_mib(), 1),
    )


BENCHMARKS = {
    "import_goods_100k": import_goods_100k,
    "import_goods_100k_dryrun": import_goods_100k_dryrun,
    "import_goods_100k_upsert": import_goods_100k_upsert,
    "export_goods_100k": export_goods_100k,
}


if __name__ == "__main__":
    _child(sys.argv[1:])
