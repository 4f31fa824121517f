"""Demo warehouses, zones and bins, created through the services. Idempotent: a row that exists
(by code) is left as it is, so a second run adds nothing."""

from decimal import Decimal

from warehouses import services
from warehouses.models import Bin, Warehouse, Zone

WAREHOUSES = [
    {
        "code": "SYD-01",
        "name": "Sydney West DC",
        "address": "42 Victoria Street, Wetherill Park NSW 2164, Australia",
        "email": "syd-dc@example.com",
        "latitude": Decimal("-33.849200"),
        "longitude": Decimal("150.900600"),
        "priority": 10,
    },
    {
        "code": "MEL-01",
        "name": "Melbourne Truganina DC",
        "address": "15 Dohertys Road, Truganina VIC 3029, Australia",
        "email": "mel-dc@example.com",
        "latitude": Decimal("-37.818900"),
        "longitude": Decimal("144.744400"),
        "priority": 20,
    },
    {
        "code": "SZX-01",
        "name": "深圳龙华仓 Shenzhen Longhua Hub",
        "address": "广东省深圳市龙华区民治大道 88 号\n88 Minzhi Avenue, Longhua District, Shenzhen, China",
        "email": "szx-hub@example.com",
        "latitude": Decimal("22.641000"),
        "longitude": Decimal("114.033000"),
        "priority": 30,
    },
]

ZONES = [
    ("PICK", "Forward picking", Zone.Type.PICKING),
    ("BULK", "Bulk storage", Zone.Type.STORAGE),
]


def _bin_codes() -> list[tuple[str, str, bool]]:
    """(zone code, bin code, active): aisles A-B of pick faces, racks R01-R03 of pallets."""
    codes = []
    for aisle in "AB":
        for bay in (1, 2):
            for level in range(1, 7):
                code = f"{aisle}-{bay:02d}-{level:02d}"
                # One pick face per warehouse is out of use (damaged beam), to show the status.
                codes.append(("PICK", code, code != "B-02-06"))
    for rack in (1, 2, 3):
        for position in range(1, 7):
            codes.append(("BULK", f"R{rack:02d}-{position:02d}", True))
    return codes


def load() -> list[str]:
    created = {"warehouses": 0, "zones": 0, "bins": 0}
    for details in WAREHOUSES:
        warehouse = Warehouse.objects.filter(code__iexact=details["code"]).first()
        if warehouse is None:
            warehouse = services.warehouse_create(**details)
            created["warehouses"] += 1
        zones = {zone.code: zone for zone in Zone.objects.filter(warehouse=warehouse)}
        for code, name, zone_type in ZONES:
            if code not in zones:
                zones[code] = services.zone_create(
                    warehouse=warehouse, code=code, name=name, type=zone_type
                )
                created["zones"] += 1
        existing = set(Bin.objects.filter(warehouse=warehouse).values_list("code", flat=True))
        for zone_code, code, active in _bin_codes():
            if code not in existing:
                services.bin_create(
                    warehouse=warehouse, zone=zones[zone_code], code=code, is_active=active
                )
                created["bins"] += 1
    return [f"{name} created: {count}" for name, count in created.items()]
