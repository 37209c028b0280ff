"""Cart fixtures: the orders fixtures (a kz honey seller, a cn-kz phone seller, funded buyers)."""

from tests.orders.conftest import (  # noqa: F401 - fixtures
    CN_ADDRESS,
    _customs_simulated,
    apricots,
    buyer_cn,
    buyer_kz,
    cn_seller,
    fund,
    honey,
    kz_seller,
    phone,
    reserved,
    wallet,
)
