"""Orders: a buyer's checkout on one storefront and its lines.

The tables keep the names they had when orders lived in the marketplace app (``marketplace_order``,
``marketplace_orderline``): the move to this app changed the code, not the data.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.models import Product, Storefront

from .states import ORDER_MACHINE, RETURN_MACHINE, OrderStatus, ReturnReason, ReturnStatus, Road


class Order(models.Model):
    """A buyer's checkout on one storefront: one currency, one seller company, goods reserved in the
    storefront's warehouses and a landed cost fixed by the customs quote at placement.

    Amounts are in the storefront's currency (minor units); ``total = goods + shipping + taxes``
    is a database constraint, so a half-computed order cannot be stored. The warehouses, customs
    and payments apps know the order only by its :attr:`reference` (``order:<id>``)."""

    Status = OrderStatus
    machine = ORDER_MACHINE

    # Indexed only where a reader needs it (Meta.indexes): every order writes each index at
    # placement and again at each change of status. The storefront, currency and country are
    # reference rows, never deleted while orders point at them, and no page lists orders by them.
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False)
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="orders", db_index=False)
    # The seller paid on delivery (an order holds the products of one company: escrow is released
    # to one payee).
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="orders", db_index=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+", db_index=False)
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
    ship_to_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+", db_index=False)
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

    # Indexed by order_line_position_once (order, position).
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.ForeignKey("warehouses.Sku", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    hs_code = models.CharField(max_length=10)
    origin_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+", db_index=False)
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


class ReturnWindow(models.Model):
    """How many days after delivery a buyer may ask to return, per destination country and kind of
    reason: consumer law for a change of mind (7 days into China, 14 into Kazakhstan and Kyrgyzstan,
    10 into Uzbekistan), the platform's policy (30 days) for a fault. Categories listed in
    ``excluded_categories`` (slugs) cannot be returned for that reason (fresh food in China)."""

    class Kind(models.TextChoices):
        CHANGED_MIND = "changed_mind", _("Change of mind")
        FAULT = "fault", _("Defective, wrong or not as described")

    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    days = models.PositiveSmallIntegerField()
    excluded_categories = models.CharField(max_length=300, blank=True)
    source = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["country", "kind"], name="return_window_once")]

    def __str__(self):
        return f"{self.country_id} {self.kind}: {self.days} days"


class Return(models.Model):
    """A buyer's return of some delivered units of an order, and its refund."""

    Status = ReturnStatus
    Reason = ReturnReason
    machine = RETURN_MACHINE

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    comment = models.CharField(max_length=1000, blank=True)
    refusal_reason = models.CharField(max_length=500, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    # The refund as promised when asked (goods, their share of shipping and taxes, less the return
    # shipping a change of mind pays); what was paid is ``refund_minor`` once refunded.
    goods_minor = models.BigIntegerField(default=0)
    shipping_share_minor = models.BigIntegerField(default=0)
    taxes_minor = models.BigIntegerField(default=0)
    return_shipping_minor = models.BigIntegerField(default=0)
    refund_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(goods_minor__gte=0, shipping_share_minor__gte=0, taxes_minor__gte=0,
                                                      return_shipping_minor__gte=0, refund_minor__gte=0),
                                   name="return_amounts_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="return_due_idx")]

    def __str__(self):
        return f"return {self.pk} of order {self.order_id} ({self.status})"

    @property
    def reference(self) -> str:
        return f"return:{self.pk}"

    @property
    def estimate_minor(self) -> int:
        buyer_pays = self.return_shipping_minor if self.reason == ReturnReason.CHANGED_MIND else 0
        return max(0, self.goods_minor + self.shipping_share_minor + self.taxes_minor - buyer_pays)


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    restocked = models.PositiveIntegerField(default=0)
    damaged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ret", "line__position"]
        constraints = [
            models.UniqueConstraint(fields=["ret", "line"], name="return_line_once"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(restocked__lte=models.F("quantity") - models.F("damaged")),
                                   name="return_line_received_within_quantity"),
        ]

    def __str__(self):
        return f"{self.quantity} × line {self.line_id} in return {self.ret_id}"
