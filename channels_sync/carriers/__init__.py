"""Carrier adapters behind one interface (``base.CarrierAdapter``); ``for_carrier`` picks one."""

from __future__ import annotations


def for_carrier(carrier, **client_options):
    from channels_sync.carriers.aramex import AramexCarrier
    from channels_sync.carriers.auspost import AusPostCarrier
    from channels_sync.carriers.fourpx import FourPXCarrier

    adapters = {"auspost": AusPostCarrier, "fourpx": FourPXCarrier, "aramex": AramexCarrier}
    if carrier.kind not in adapters:
        from django.utils.translation import gettext as _

        from channels_sync.carriers.base import CarrierError

        raise CarrierError(
            _("Booking with %(carrier)s is not available yet.")
            % {"carrier": carrier.get_kind_display()},
            transient=False,
        )
    return adapters[carrier.kind](carrier, **client_options)
