"""What the demo Shopify-like shop sells: some listings match demo goods by SKU, one by barcode
only, and one ("HB-LAGER-SINGLE") matches nothing, so a new user links it by hand."""

DEMO_TOKEN = "shpat_demo_0000000000000000"  # noqa: S105 - the local fake's token, demo only

DEMO_VARIANTS = [
    # sku, barcode, title, quantity the platform shows before the first push
    ("BEER-CAN-330", "", "Lager beer 330 ml can", 3),
    ("BEER-DOZEN", "", "Lager beer - dozen", 0),
    ("BEER-CASE", "", "Lager beer - case of 4 dozen", 0),
    ("COLA-330", "", "Cola can 330 ml", 5),
    ("", "6901234000011", "Harbour lager can (barcode only)", 0),
    ("HB-LAGER-SINGLE", "", "Harbour Brew lager, single can", 0),
    ("WATER-550", "", "Spring water 550 ml", 0),
]


def seed(fake) -> None:
    for sku, barcode, title, quantity in DEMO_VARIANTS:
        fake.add_variant(sku, barcode=barcode, title=title, quantity=quantity)
