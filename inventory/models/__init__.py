"""Inventory models: goods and their catalogue (goods.py), the stock ledger (stock.py)."""

from inventory.models.goods import (
    Batch,
    Brand,
    Category,
    ComboComponent,
    ExportRecord,
    Goods,
    GoodsQuerySet,
    ImportJob,
)

__all__ = [
    "Batch",
    "Brand",
    "Category",
    "ComboComponent",
    "ExportRecord",
    "Goods",
    "GoodsQuerySet",
    "ImportJob",
]

# inventory: stock (the ledger; owned by the stock ledger work)
from inventory.models.stock import (  # noqa: E402
    DocumentStatus,
    DocumentType,
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
    StockTransfer,
    StockTransferLine,
)

__all__ += [
    "DocumentStatus",
    "DocumentType",
    "InboundLine",
    "InboundSheet",
    "OutboundLine",
    "OutboundSheet",
    "StockBalance",
    "StockCount",
    "StockCountLine",
    "StockMovement",
    "StockTransfer",
    "StockTransferLine",
]

from inventory.models.scan import ScanSession  # noqa: E402

__all__ += ["ScanSession"]
