"""Property: whatever sequence of operations runs, the invariants hold and levels equal the ledger."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from warehouses import services
from warehouses.models import Movement, StockLevel

from .conftest import assert_ledger_consistent

WAREHOUSES = ["TAS", "ALA"]
BONDS = ["bonded", "released"]
# Examples share one test database: references must never repeat across them.
_refs = itertools.count()

operation = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(WAREHOUSES), st.sampled_from(BONDS), st.integers(1, 20)),
    st.tuples(st.just("reserve"), st.sampled_from(["UZ", "KZ"]), st.integers(1, 25)),
    st.tuples(st.just("release"), st.integers(0, 30)),
    st.tuples(st.just("ship"), st.integers(0, 30)),
    st.tuples(st.just("release_from_bond"), st.integers(0, 30)),
    st.tuples(st.just("return"), st.integers(0, 30)),
    st.tuples(st.just("adjust"), st.sampled_from(WAREHOUSES), st.sampled_from(BONDS), st.integers(-15, 15).filter(bool)),
    st.tuples(st.just("transfer"), st.sampled_from(BONDS), st.integers(1, 15)),
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_any_sequence_keeps_invariants_and_levels_equal_the_ledger(sku, wh, ops):
    refs = []
    receipts = Movement.objects.filter(kind="receipt").count()
    for op in ops:
        try:
            if op[0] == "receive":
                services.stock_receive(warehouse=op[1], sku_id=sku.pk, quantity=op[3], bond_status=op[2],
                                       reference="p", actor=SYSTEM_ACTOR)
            elif op[0] == "reserve":
                ref = f"P-{next(_refs)}"
                services.stock_reserve(lines=[(sku.pk, op[2])], storefront_warehouses=WAREHOUSES, buyer_country=op[1],
                                       reference=ref, ttl_seconds=None, actor=SYSTEM_ACTOR)
                refs.append(ref)
            elif op[0] in {"release", "ship", "release_from_bond", "return"} and refs:
                ref = refs[op[1] % len(refs)]
                if op[0] == "release":
                    services.stock_release(reference=ref, actor=SYSTEM_ACTOR)
                elif op[0] == "release_from_bond":
                    services.stock_release_from_bond(reference=ref, actor=SYSTEM_ACTOR)
                elif op[0] == "return":
                    services.stock_return_shipment(reference=ref, actor=SYSTEM_ACTOR)
                else:
                    services.stock_confirm_shipment(reference=ref, actor=SYSTEM_ACTOR)
            elif op[0] == "adjust":
                services.stock_adjust(warehouse=op[1], sku_id=sku.pk, bond_status=op[2], quantity=op[3], reason="count",
                                      actor=SYSTEM_ACTOR)
            elif op[0] == "transfer":
                services.transfer_create(source="TAS", destination="ALA", lines=[(sku.pk, op[1], op[2])], actor=SYSTEM_ACTOR)
        except DomainError as exc:
            # Refusals only (short stock, closed references, still in bond), and never of a receipt:
            # a ledger that refused everything would keep every invariant too.
            assert op[0] != "receive" and exc.status in {404, 409}, exc
        assert not StockLevel.objects.filter(on_hand__lt=0).exists()
        assert not StockLevel.objects.filter(reserved__lt=0).exists()
    assert Movement.objects.filter(kind="receipt").count() - receipts == sum(op[0] == "receive" for op in ops)
    assert_ledger_consistent()
