"""Orders: a buyer's checkout on one storefront and its lines.

The tables keep the names they had when orders lived in the marketplace app (``marketplace_order``,
``marketplace_orderline``): the move to this app changed the code, not the data.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.models import Product, Storefront

from .states import ORDER_MACHINE, OrderStatus, Road


class Order(models.Model):
    """A buyer's checkout on one storefront: one currency, one seller company, goods reserved in the
    storefront's warehouses and a landed cost fixed by the customs quote at placement.

    Amounts are in the storefront's currency (minor units); ``total = goods + shipping + taxes``
    is a database constraint, so a half-computed order cannot be stored. The warehouses, customs
    and payments apps know the order only by its :attr:`reference` (``order:<id>``)."""

    Status = OrderStatus
    machine = ORDER_MACHINE

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="orders")
    # The seller paid on delivery (an order holds the products of one company: escrow is released
    # to one payee).
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    goods_minor = models.BigIntegerField(default=0)
    shipping_minor = models.BigIntegerField(default=0)
    taxes_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    regime = models.CharField(max_length=32, blank=True)
    # The customs quote as the buyer saw it (customs.interface.Quote.to_api()): the allowance is
    # booked from it at payment, and the timeline shows what was promised.
    landed_cost = models.JSONField(default=dict, blank=True)
    # Where the reserved units sit (the quote's source warehouse: LHW gives regime 1210), and the
    # road that follows from it (customs at the warehouse, at a border crossing, or none).
    source_warehouse = models.CharField(max_length=8, blank=True)
    road = models.CharField(max_length=8, choices=Road.choices, blank=True)
    ship_to_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    ship_to_city = models.CharField(max_length=100)
    ship_to_address = models.CharField(max_length=300)
    ship_to_postal_code = models.CharField(max_length=20, blank=True)
    ship_to_name = models.CharField(max_length=150)
    ship_to_phone = models.CharField(max_length=32)
    # The recipient's id number for customs (resident ID, IIN, PINFL or passport), encrypted at rest
    # (core.crypto); only the masked form is ever shown.
    ship_to_id_encrypted = models.TextField(blank=True)
    ship_to_id_masked = models.CharField(max_length=32, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    placed_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Unpaid orders expire at this time"))
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "marketplace_order"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(goods_minor__gte=0, shipping_minor__gte=0, taxes_minor__gte=0),
                name="order_amounts_not_negative"),
            models.CheckConstraint(
                condition=models.Q(total_minor=models.F("goods_minor") + models.F("shipping_minor") + models.F("taxes_minor")),
                name="order_total_is_sum"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-id"], name="order_buyer_idx"),
            models.Index(fields=["company", "-id"], name="order_company_idx"),
            # The expiry sweep: placed orders by due time.
            models.Index(fields=["status", "expires_at"], name="order_due_idx"),
        ]

    def __str__(self):
        return f"order {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        return f"order:{self.pk}"

    def money(self, minor: int):
        from core.money import Money

        return Money(int(minor), self.currency_id)

    @property
    def total(self):
        return self.money(self.total_minor)

    @property
    def goods(self):
        return self.money(self.goods_minor)

    @property
    def shipping(self):
        return self.money(self.shipping_minor)

    @property
    def taxes(self):
        return self.money(self.taxes_minor)


class OrderLine(models.Model):
    """What was bought, at the price and with the texts of the moment of checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.ForeignKey("warehouses.Sku", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    hs_code = models.CharField(max_length=10)
    origin_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    gross_weight_g = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()
    line_total_minor = models.BigIntegerField()

    class Meta:
        db_table = "marketplace_orderline"
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position_once"),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_product_once"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1, quantity__lte=1000), name="order_line_quantity_range"),
            models.CheckConstraint(condition=models.Q(unit_price_minor__gt=0), name="order_line_price_positive"),
            models.CheckConstraint(condition=models.Q(line_total_minor=models.F("unit_price_minor") * models.F("quantity")),
                                   name="order_line_total_is_product"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_id} in order {self.order_id}"
