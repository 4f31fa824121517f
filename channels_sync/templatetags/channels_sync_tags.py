from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def sync_inputs(inputs: dict, codes: dict, skus: dict | None = None) -> str:
    """One line saying why a quantity was sent: per warehouse on hand/frozen/reserved and rule
    (a combo: per component, then the combos each warehouse makes and the combo's own rule),
    then share and safety stock."""
    skus = skus or {}

    def warehouses(rows):
        return format_html_join(
            "; ",
            "{}: {} {} / {} {} / {} {} ({}) → {}",
            (
                (
                    codes.get(w["warehouse_id"], w["warehouse_id"]),
                    _("on hand"),
                    w["on_hand"],
                    _("frozen"),
                    w["frozen"],
                    _("reserved"),
                    w["reserved"],
                    w["rule"],
                    w["counted"],
                )
                for w in rows
            ),
        )

    parts = []
    if "components" in inputs:
        for c in inputs["components"]:
            parts.append(
                format_html(
                    "[{} ×{}: {}]",
                    skus.get(c["goods_id"], c["goods_id"]),
                    c["per_combo"],
                    warehouses(c["warehouses"]),
                )
            )
        if inputs.get("combo_warehouses"):
            parts.append(
                format_html_join(
                    "; ",
                    "{}: {} {} ({}) → {}",
                    (
                        (
                            codes.get(w["warehouse_id"], w["warehouse_id"]),
                            w["combos"],
                            _("combos"),
                            w["rule"],
                            w["counted"],
                        )
                        for w in inputs["combo_warehouses"]
                    ),
                )
            )
    elif "warehouses" in inputs:
        parts.append(warehouses(inputs["warehouses"]))
    if "share_percent" in inputs:
        parts.append(
            format_html(
                "{} {}%, {} {}",
                _("share"),
                inputs["share_percent"],
                _("safety stock"),
                inputs["safety_stock"],
            )
        )
    return format_html_join(" · ", "{}", ((p,) for p in parts))
