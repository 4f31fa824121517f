import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

# The order data must be loaded in: users and warehouses before goods, goods before stock.
DEMO_APPS = ["wms", "warehouses", "inventory", "freezes", "allocation", "channels_sync"]


class Command(BaseCommand):
    help = "Load demo users and data. Idempotent: a second run adds nothing twice."

    def handle(self, *args, **options) -> None:
        for label in DEMO_APPS:
            module_name = f"{apps.get_app_config(label).name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            with transaction.atomic():
                lines = module.load()
            for line in lines:
                self.stdout.write(f"{label}: {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
