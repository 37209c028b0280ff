from core.access import STAFF, roles_of, scope

from .models import Warehouse


@scope(Warehouse)
def warehouses_visible(user, qs):
    # Operators see their own warehouses; buyers and sellers see the list (they ship to them).
    if STAFF in roles_of(user):
        return qs
    return qs
