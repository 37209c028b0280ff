from django.db.models import Prefetch

from core.access import visible
from core.models import Country

from .models import Storefront


def storefront_list(*, user):
    """Storefronts with their markets: two queries whatever their number."""
    return visible(user, Storefront.objects.select_related("currency", "seller_country")).prefetch_related(
        Prefetch("markets", queryset=Country.objects.order_by("iso2")),
        "warehouses",
    )
