"""Run the benchmarks: ``python -m bench [name ...] [--size smoke|full|<factor>]``.

Each run gets a fresh PostgreSQL database (``bench_<name>``, created and dropped like a test
database) from DATABASE_URL, so the app and its baseline work on the same server in the same run;
every benchmark starts from empty tables (flushed between benchmarks).
"""

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from pathlib import Path


def discover() -> dict:
    found = {}
    package_dir = Path(__file__).resolve().parent
    for module in pkgutil.iter_modules([str(package_dir)]):
        if module.name.startswith("_") or module.name == "common":
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

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # one line per figure, no request logs
    # Benchmarks render pages with DEBUG off and never serve static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

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
            benchmarks[name](scale)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
