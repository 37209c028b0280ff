"""The tables a checkout, a booking and the parcel road write carry only the indexes a reader uses
(docs/DECISIONS.md): every index is written at each insert and at each update that is not HOT, so
one added by a default (a foreign key's, a LIKE twin) costs every order. Adding one is a decision:
name it here, with the reader it serves."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

EXPECTED = {
    "marketplace_order": {"marketplace_order_pkey", "order_buyer_idx", "order_company_idx", "order_due_idx"},
    "marketplace_orderline": {"marketplace_orderline_pkey", "order_line_position_once", "order_line_product_once",
                              "marketplace_orderline_product_id_2e24add2", "marketplace_orderline_sku_id_a7ff628a"},
    "warehouses_stocklevel": {"warehouses_stocklevel_pkey", "stock_level_key", "stock_level_sku_idx", "stock_level_age_idx",
                              "stock_level_age_key_idx", "stock_level_on_hand_idx", "stock_level_reserved_idx",
                              "stock_level_available_idx"},
    "warehouses_movement": {"warehouses_movement_pkey", "movement_level_idx", "movement_reference_idx",
                            "movement_warehouse_at_idx", "warehouses_movement_actor_id_98a5942f",
                            "warehouses_movement_at_8e57dd3c"},
    "warehouses_reservation": {"warehouses_reservation_pkey", "reservation_reference_once", "reservation_due_idx"},
    "warehouses_reservationline": {"warehouses_reservationline_pkey", "reservation_line_warehouse_idx",
                                   "warehouses_reservationline_level_id_c2a72757",
                                   "warehouses_reservationline_reservation_id_22c30542",
                                   "warehouses_reservationline_sku_id_ac1d033e"},
    "payments_transaction": {"payments_transaction_pkey", "transaction_key", "transaction_reference_idx",
                             "transaction_actor_idx"},
    "payments_entry": {"payments_entry_pkey", "entry_account_idx", "payments_entry_txn_id_e6138c79"},
    "payments_escrowhold": {"payments_escrowhold_pkey", "escrow_reference_once", "escrow_payer_idx"},
    "core_transitionevent": {"core_transitionevent_pkey", "transition_object_idx", "transition_actor_idx"},
}


def test_the_written_tables_carry_only_the_indexes_a_reader_uses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(EXPECTED)])
        found: dict[str, set[str]] = {}
        for table, index in cursor.fetchall():
            found.setdefault(table, set()).add(index)
    assert found == EXPECTED


def test_the_actors_are_indexed_only_where_there_is_one():
    """Most bookings and transitions are Celery's, with no actor: their rows write no actor index."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('transaction_actor_idx', 'transition_actor_idx')")
        defs = dict(cursor.fetchall())
    assert set(defs) == {"transaction_actor_idx", "transition_actor_idx"}
    assert all(d.endswith("WHERE (actor_id IS NOT NULL)") for d in defs.values()), defs
