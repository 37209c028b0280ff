"""Writes of the warehouses app, one module per concern:

* :mod:`.ledger`: the one way a stock level changes (``_move``), the level lock order, SKUs,
  receipts and adjustments;
* :mod:`.stock`: reservations, shipments, release from bond, returns from the border;
* :mod:`.transfers`: units moved between warehouses;
* :mod:`.consignments`: inbound consignments, their road and their customs clearance;
* :mod:`.fulfilment`: pick, pack and ship, and the fulfilment simulator;
* :mod:`.returns`: units a buyer sent back after delivery, booked in (or written off);
* :mod:`.batches`: the parcel road's stock steps on many references at once (out of bond,
  fulfilments requested, units shipped).

Callers keep importing from here (``from warehouses import services; services.stock_reserve(...)``):
every public name is re-exported below.
"""

from .batches import fulfilment_request_batch, stock_confirm_shipment_batch, stock_release_from_bond_batch
from .consignments import (
    MAX_DECLARED_MINOR,
    consignment_advance,
    consignment_cancel,
    consignment_create,
    consignment_customs_changed,
    consignment_receive,
    consignment_submit,
)
from .fulfilment import (
    PARCEL_LIMITS,
    fulfilment_pick,
    fulfilment_request,
    fulfilment_ship,
    fulfilment_simulate,
    fulfilments_resume,
    fulfilments_simulate,
    parcel_pack,
)
from .ledger import MAX_QUANTITY, sku_upsert, sku_upsert_many, stock_adjust, stock_receive
from .returns import stock_receive_return
from .stock import (
    RESERVE_ATTEMPTS,
    ReserveCall,
    reservations_expire,
    stock_confirm_shipment,
    stock_keep,
    stock_release,
    stock_release_from_bond,
    stock_reserve,
    stock_reserve_call,
    stock_return_shipment,
)
from .transfers import transfer_cancel, transfer_create, transfer_receive

__all__ = [
    "MAX_DECLARED_MINOR",
    "MAX_QUANTITY",
    "PARCEL_LIMITS",
    "RESERVE_ATTEMPTS",
    "ReserveCall",
    "consignment_advance",
    "consignment_cancel",
    "consignment_create",
    "consignment_customs_changed",
    "consignment_receive",
    "consignment_submit",
    "fulfilment_pick",
    "fulfilment_request",
    "fulfilment_request_batch",
    "fulfilment_ship",
    "fulfilment_simulate",
    "fulfilments_resume",
    "fulfilments_simulate",
    "parcel_pack",
    "reservations_expire",
    "sku_upsert",
    "sku_upsert_many",
    "stock_adjust",
    "stock_confirm_shipment",
    "stock_confirm_shipment_batch",
    "stock_keep",
    "stock_receive",
    "stock_receive_return",
    "stock_release",
    "stock_release_from_bond",
    "stock_release_from_bond_batch",
    "stock_reserve",
    "stock_reserve_call",
    "stock_return_shipment",
    "transfer_cancel",
    "transfer_create",
    "transfer_receive",
]
