"""Run the benchmarks: ``python -m bench [name ...] [--size smoke|full|<factor>]``.

Each run gets a fresh PostgreSQL database (``bench_<name>``, created and dropped like a test
database) from DATABASE_URL, so the app and its baseline work on the same server in the same run;
every benchmark starts from empty tables (flushed between benchmarks).

Every process of a run, the children a benchmark starts included, runs with DEBUG=0
(``bench/settings.py``, set through the environment the children inherit).

Checks that can fail: after timing, each benchmark checks its result in the database (rows
written, balances, the page's rows...) with ``bench.common.check(condition, message)``::

    from bench.common import check
    check(Goods.objects.count() == rows, f"{Goods.objects.count()} goods written, {rows} expected")

A failed check, or a benchmark that raises, prints ``CHECK FAILED`` and the run exits 1 after
the remaining benchmarks ran; a new benchmark must check what it claims to have done.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
import warnings
from pathlib import Path


def discover() -> dict:
    found = {}
    package_dir = Path(__file__).resolve().parent
    for module in pkgutil.iter_modules([str(package_dir)]):
        if module.name.startswith("_") or module.name in ("common", "settings"):
            continue
        mod = importlib.import_module(f"bench.{module.name}")
        found.update(getattr(mod, "BENCHMARKS", {}))
    return found


def parse_scale(size: str) -> float:
    return {"full": 1.0, "smoke": 0.01}.get(size) or float(size)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--size", default="full", help="smoke, full, or a factor such as 0.1")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    # Every benchmark process, children included (they inherit the environment): DEBUG off.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # one line per figure, no request logs
    # Benchmarks render pages with DEBUG off and never serve static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench import common

    if settings.DEBUG:
        print("benchmarks must run with DEBUG=0")
        return 2

    benchmarks = discover()
    if args.list:
        print("\n".join(sorted(benchmarks)))
        return 0
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(benchmarks))}")
        return 2
    if connection.vendor != "postgresql":
        print("benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
        return 2

    scale = parse_scale(args.size)
    db_settings = settings.DATABASES["default"]
    db_settings.setdefault("TEST", {})["NAME"] = f"bench_{db_settings['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        for index, name in enumerate(args.names or sorted(benchmarks)):
            if index:
                call_command("flush", interactive=False, verbosity=0)
            common.running(name)
            try:
                benchmarks[name](scale)
            except Exception as exc:  # noqa: BLE001 - a crashed benchmark is a failed check
                traceback.print_exc()
                common.check(False, f"raised {type(exc).__name__}: {exc}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if common.FAILURES:
        print(f"{len(common.FAILURES)} check(s) FAILED:")
        for failure in common.FAILURES:
            print(f"  {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
