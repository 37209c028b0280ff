"""Writes of the warehouses app (being split by concern: see the modules of this package).

Callers import from here: ``from warehouses import services; services.stock_reserve(...)``.
"""

from .stock import *  # noqa: F403
from .stock import MAX_QUANTITY, PARCEL_LIMITS  # noqa: F401
