"""Demo goods (demo_goods.py) and demo stock (demo_stock.py), in that order."""

import importlib
import importlib.util


def load() -> list[str]:
    lines: list[str] = []
    for name in ("inventory.demo_goods", "inventory.demo_stock"):
        if importlib.util.find_spec(name) is not None:
            lines += importlib.import_module(name).load()
    return lines
