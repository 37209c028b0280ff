from django.db import models
from django.utils.translation import gettext_lazy as _


class Storefront(models.Model):
    """A national pavilion (that country's goods for buyers in China) or a China-goods storefront
    stocked in an overseas bonded warehouse for local buyers."""

    class Kind(models.TextChoices):
        PAVILION = "pavilion", _("National pavilion")
        CHINA_GOODS = "china_goods", _("China goods")

    code = models.SlugField(max_length=16, primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Pavilion: the country whose companies sell here. China goods: CN.
    seller_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    default_language = models.CharField(max_length=8)
    markets = models.ManyToManyField("core.Country", related_name="+", help_text=_("Countries it delivers to"))
    warehouses = models.ManyToManyField("warehouses.Warehouse", related_name="storefronts", blank=True)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    flag = models.CharField(max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self):
        return self.code

    def name(self, language: str) -> str:
        if language.startswith("ru"):
            return self.name_ru
        if language.startswith("zh"):
            return self.name_zh
        return self.name_en
