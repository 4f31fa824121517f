"""Demo catalogue: a category tree, brands, about fifty goods (a case of beer = 4 x dozen, a
dozen = 12 cans, a beauty gift box), and batches. Idempotent: a second run adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from inventory.models import Batch, Brand, Category, ComboComponent, Goods
from inventory.services import goods as services

CATEGORIES = {
    "Drinks": ["Beer", "Soft drinks", "Water"],
    "Beauty": ["Makeup", "Skincare"],
    "Food": ["Snacks", "Noodles"],
    "Electronics": ["Phones", "Accessories"],
    "Gift sets": [],
}
BRANDS = [
    "Harbour Brew",
    "Blue Peak",
    "Lumière",
    "Crunchy Co",
    "Nova Tech",
    "Fresh Spring",
    "Golden Wheat",
    "Acme",
]

# sku, name, category path, brand, unit, weight kg, shelf life days, barcode
GOODS = [
    (
        "BEER-CAN-330",
        "Lager beer 330 ml can",
        "Drinks > Beer",
        "Harbour Brew",
        "can",
        "0.350",
        365,
        "6901234000011",
    ),
    (
        "BEER-DOZEN",
        "Lager beer, dozen (12 cans)",
        "Drinks > Beer",
        "Harbour Brew",
        "pack",
        "4.300",
        365,
        "6901234000028",
    ),
    (
        "BEER-CASE",
        "Lager beer, case (4 dozen)",
        "Drinks > Beer",
        "Harbour Brew",
        "case",
        "17.500",
        365,
        "6901234000035",
    ),
    (
        "BEER-BTL-500",
        "Wheat beer 500 ml bottle",
        "Drinks > Beer",
        "Golden Wheat",
        "bottle",
        "0.800",
        270,
        "6901234000042",
    ),
    (
        "BEER-IPA-330",
        "IPA 330 ml can",
        "Drinks > Beer",
        "Harbour Brew",
        "can",
        "0.350",
        240,
        "6901234000059",
    ),
    (
        "COLA-330",
        "Cola 330 ml can",
        "Drinks > Soft drinks",
        "Blue Peak",
        "can",
        "0.350",
        365,
        "6901234000066",
    ),
    (
        "COLA-ZERO-330",
        "Cola zero 330 ml can",
        "Drinks > Soft drinks",
        "Blue Peak",
        "can",
        "0.350",
        365,
        "6901234000073",
    ),
    (
        "LEMONADE-1L",
        "Lemonade 1 L",
        "Drinks > Soft drinks",
        "Blue Peak",
        "bottle",
        "1.050",
        300,
        "6901234000080",
    ),
    (
        "ICED-TEA-500",
        "Iced tea 500 ml",
        "Drinks > Soft drinks",
        "Fresh Spring",
        "bottle",
        "0.530",
        300,
        "6901234000097",
    ),
    (
        "WATER-550",
        "Spring water 550 ml",
        "Drinks > Water",
        "Fresh Spring",
        "bottle",
        "0.570",
        540,
        "6901234000103",
    ),
    (
        "WATER-1500",
        "Spring water 1.5 L",
        "Drinks > Water",
        "Fresh Spring",
        "bottle",
        "1.560",
        540,
        "6901234000110",
    ),
    (
        "WATER-SPARK-500",
        "Sparkling water 500 ml",
        "Drinks > Water",
        "Fresh Spring",
        "bottle",
        "0.520",
        540,
        "6901234000127",
    ),
    (
        "LIPSTICK-RED",
        "Lipstick, classic red",
        "Beauty > Makeup",
        "Lumière",
        "pcs",
        "0.030",
        1095,
        "6901234000134",
    ),
    (
        "LIPSTICK-NUDE",
        "Lipstick, nude",
        "Beauty > Makeup",
        "Lumière",
        "pcs",
        "0.030",
        1095,
        "6901234000141",
    ),
    (
        "MASCARA-BLK",
        "Mascara, black",
        "Beauty > Makeup",
        "Lumière",
        "pcs",
        "0.025",
        730,
        "6901234000158",
    ),
    (
        "EYELINER-BLK",
        "Eyeliner, black",
        "Beauty > Makeup",
        "Lumière",
        "pcs",
        "0.010",
        730,
        "6901234000165",
    ),
    (
        "FOUNDATION-02",
        "Foundation, shade 02",
        "Beauty > Makeup",
        "Lumière",
        "pcs",
        "0.060",
        730,
        "6901234000172",
    ),
    (
        "CREAM-DAY-50",
        "Day cream 50 ml",
        "Beauty > Skincare",
        "Lumière",
        "jar",
        "0.110",
        730,
        "6901234000189",
    ),
    (
        "CREAM-NIGHT-50",
        "Night cream 50 ml",
        "Beauty > Skincare",
        "Lumière",
        "jar",
        "0.110",
        730,
        "6901234000196",
    ),
    (
        "SERUM-30",
        "Face serum 30 ml",
        "Beauty > Skincare",
        "Lumière",
        "bottle",
        "0.080",
        540,
        "6901234000202",
    ),
    (
        "SUNSCREEN-50",
        "Sunscreen SPF50 50 ml",
        "Beauty > Skincare",
        "Lumière",
        "tube",
        "0.070",
        730,
        "6901234000219",
    ),
    (
        "GIFT-BOX-BEAUTY",
        "Beauty gift box (lipstick + mascara)",
        "Gift sets",
        "Lumière",
        "box",
        "0.150",
        730,
        "6901234000226",
    ),
    (
        "CHIPS-SALT-100",
        "Potato chips, salted 100 g",
        "Food > Snacks",
        "Crunchy Co",
        "bag",
        "0.110",
        240,
        "6901234000233",
    ),
    (
        "CHIPS-BBQ-100",
        "Potato chips, barbecue 100 g",
        "Food > Snacks",
        "Crunchy Co",
        "bag",
        "0.110",
        240,
        "6901234000240",
    ),
    (
        "PRETZEL-200",
        "Pretzels 200 g",
        "Food > Snacks",
        "Crunchy Co",
        "bag",
        "0.210",
        300,
        "6901234000257",
    ),
    (
        "NUTS-MIX-150",
        "Mixed nuts 150 g",
        "Food > Snacks",
        "Crunchy Co",
        "bag",
        "0.160",
        365,
        "6901234000264",
    ),
    (
        "CHOC-BAR-50",
        "Chocolate bar 50 g",
        "Food > Snacks",
        "Golden Wheat",
        "pcs",
        "0.055",
        365,
        "6901234000271",
    ),
    (
        "COOKIES-300",
        "Butter cookies 300 g",
        "Food > Snacks",
        "Golden Wheat",
        "box",
        "0.330",
        300,
        "6901234000288",
    ),
    (
        "NOODLE-BEEF",
        "Instant noodles, beef",
        "Food > Noodles",
        "Golden Wheat",
        "pcs",
        "0.120",
        180,
        "6901234000295",
    ),
    (
        "NOODLE-SHRIMP",
        "Instant noodles, shrimp",
        "Food > Noodles",
        "Golden Wheat",
        "pcs",
        "0.120",
        180,
        "6901234000301",
    ),
    (
        "NOODLE-VEG",
        "Instant noodles, vegetable",
        "Food > Noodles",
        "Golden Wheat",
        "pcs",
        "0.115",
        180,
        "6901234000318",
    ),
    (
        "NOODLE-CUP-5",
        "Cup noodles, 5 pack",
        "Food > Noodles",
        "Golden Wheat",
        "pack",
        "0.450",
        180,
        "6901234000325",
    ),
    (
        "PHONE-A1-BLK",
        "Smartphone A1, black 128 GB",
        "Electronics > Phones",
        "Nova Tech",
        "pcs",
        "0.190",
        None,
        "6901234000332",
    ),
    (
        "PHONE-A1-WHT",
        "Smartphone A1, white 128 GB",
        "Electronics > Phones",
        "Nova Tech",
        "pcs",
        "0.190",
        None,
        "6901234000349",
    ),
    (
        "PHONE-A2-BLK",
        "Smartphone A2, black 256 GB",
        "Electronics > Phones",
        "Nova Tech",
        "pcs",
        "0.205",
        None,
        "6901234000356",
    ),
    (
        "PHONE-LITE",
        "Smartphone Lite",
        "Electronics > Phones",
        "Nova Tech",
        "pcs",
        "0.170",
        None,
        "6901234000363",
    ),
    (
        "CASE-A1-CLR",
        "Phone case A1, clear",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.030",
        None,
        "6901234000370",
    ),
    (
        "CHARGER-20W",
        "USB-C charger 20 W",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.080",
        None,
        "6901234000387",
    ),
    (
        "CABLE-USBC-1M",
        "USB-C cable 1 m",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.040",
        None,
        "6901234000394",
    ),
    (
        "EARBUDS-W1",
        "Wireless earbuds W1",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.060",
        None,
        "6901234000400",
    ),
    (
        "POWERBANK-10K",
        "Power bank 10,000 mAh",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.220",
        None,
        "6901234000417",
    ),
    (
        "SCREEN-GUARD-A1",
        "Screen protector A1",
        "Electronics > Accessories",
        "Nova Tech",
        "pcs",
        "0.015",
        None,
        "6901234000424",
    ),
    (
        "HOLDER-CAR",
        "Car phone holder",
        "Electronics > Accessories",
        "Acme",
        "pcs",
        "0.120",
        None,
        "6901234000431",
    ),
    ("TRIPOD-MINI", "Mini tripod", "Electronics > Accessories", "Acme", "pcs", "0.150", None, ""),
    ("TAPE-PACKING", "Packing tape 48 mm", "", "Acme", "roll", "0.200", None, ""),
    ("BOX-CARTON-M", "Carton box, medium", "", "Acme", "pcs", "0.350", None, ""),
    ("LABEL-ROLL", "Shipping labels, roll of 500", "", "Acme", "roll", "0.400", None, ""),
    ("BUBBLE-WRAP", "Bubble wrap 10 m", "", "Acme", "roll", "0.500", None, ""),
    (
        "OLD-COLA-250",
        "Cola 250 ml can (discontinued)",
        "Drinks > Soft drinks",
        "Blue Peak",
        "can",
        "0.270",
        365,
        "",
    ),
    ("00123", "Wooden crate (SKU with leading zeros)", "", "Acme", "pcs", "2.500", None, ""),
]
INACTIVE = {"OLD-COLA-250"}

COMBOS = {
    "BEER-DOZEN": [("BEER-CAN-330", 12)],
    "BEER-CASE": [("BEER-DOZEN", 4)],
    "GIFT-BOX-BEAUTY": [("LIPSTICK-RED", 1), ("MASCARA-BLK", 1)],
}

# sku, batch number, production date (expiry comes from the shelf life)
BATCHES = [
    ("BEER-CAN-330", "L2406A", dt.date(2024, 6, 3)),
    ("BEER-CAN-330", "L2409B", dt.date(2024, 9, 12)),
    ("WATER-550", "W2407", dt.date(2024, 7, 1)),
    ("CHIPS-SALT-100", "C2410", dt.date(2024, 10, 8)),
    ("NOODLE-BEEF", "N2408", dt.date(2024, 8, 20)),
    ("LIPSTICK-RED", "LR2401", dt.date(2024, 1, 15)),
    ("MASCARA-BLK", "MB2402", dt.date(2024, 2, 2)),
    ("CREAM-DAY-50", "CD2403", dt.date(2024, 3, 30)),
]


def _categories() -> dict[str, Category]:
    by_path: dict[str, Category] = {}
    for root_name, children in CATEGORIES.items():
        root, _created = Category.objects.get_or_create(name=root_name, parent=None)
        by_path[root_name] = root
        for child_name in children:
            child, _created = Category.objects.get_or_create(name=child_name, parent=root)
            by_path[f"{root_name} > {child_name}"] = child
    return by_path


def load() -> list[str]:
    categories = _categories()
    brands = {name: Brand.objects.get_or_create(name=name)[0] for name in BRANDS}
    created = 0
    by_sku: dict[str, Goods] = {}
    for sku, name, category, brand, unit, weight, shelf_life, barcode in GOODS:
        goods = Goods.objects.filter(sku__iexact=sku).first()
        if goods is None:
            goods = services.goods_create(
                sku=sku,
                name=name,
                barcode=barcode,
                category=categories.get(category),
                brand=brands[brand],
                unit=unit,
                weight=Decimal(weight),
                shelf_life_days=shelf_life,
                is_active=sku not in INACTIVE,
            )
            created += 1
        by_sku[sku] = goods
    lines = 0
    for combo_sku, components in COMBOS.items():
        for component_sku, quantity in components:
            combo, component = by_sku[combo_sku], by_sku[component_sku]
            if not ComboComponent.objects.filter(combo=combo, component=component).exists():
                services.combo_component_set(combo=combo, component=component, quantity=quantity)
                lines += 1
    batches = 0
    for sku, batch_no, produced in BATCHES:
        goods = by_sku[sku]
        if not Batch.objects.filter(goods=goods, batch_no=batch_no).exists():
            services.batch_create(
                goods=goods, batch_no=batch_no, production_date=produced, inbound_date=produced
            )
            batches += 1
    return [
        f"categories: {len(categories)}, brands: {len(brands)}",
        f"goods created: {created} (of {len(GOODS)}), combo lines: {lines}, batches: {batches}",
    ]
