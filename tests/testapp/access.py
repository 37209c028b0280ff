from core.access import scope

from .models import Shipment


@scope(Shipment)
def own_shipments(user, qs):
    return qs if user.is_staff else qs.filter(owner=user)
