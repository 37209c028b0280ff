from core.access import public, scope

from .models import Storefront


@scope(Storefront)
@public
def storefronts_visible(user, qs):
    return qs.filter(is_active=True)
