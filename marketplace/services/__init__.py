"""Writes of the catalogue, one module per concern:

- ``companies``: companies, their members and verification, storefront membership, listings;
- ``products``: products, their texts, prices and status;
- ``indexing``: the search index of products;
- ``images``: product photos and their thumbnails;
- ``imports``: catalogue imports from CSV or XLSX (and a ZIP of photos), in chunks.

Callers import from here (``from marketplace import services``).
"""

from .companies import (
    company_member_add,
    company_register,
    company_verification_set,
    listings_refresh,
    storefront_admits,
    storefront_join_request,
    storefront_membership_decide,
)
from .images import (
    image_thumbnails_make,
    photo_prepare,
    product_image_add,
    product_image_delete,
    product_photos_add,
    product_photos_arrange,
)
from .imports import catalogue_import_chunk, catalogue_import_create, catalogue_import_run, catalogue_import_start
from .indexing import search_index
from .products import (
    MAX_SIDE_MM,
    MAX_WEIGHT_G,
    PRICE_MAX_MAJOR,
    PRODUCT_FIELDS,
    hs_code_validate,
    price_clean,
    price_rules,
    price_validate,
    product_create,
    product_status_set,
    product_update,
)

__all__ = [
    "MAX_SIDE_MM",
    "MAX_WEIGHT_G",
    "PRICE_MAX_MAJOR",
    "PRODUCT_FIELDS",
    "catalogue_import_chunk",
    "catalogue_import_create",
    "catalogue_import_run",
    "catalogue_import_start",
    "company_member_add",
    "company_register",
    "company_verification_set",
    "hs_code_validate",
    "image_thumbnails_make",
    "listings_refresh",
    "photo_prepare",
    "price_clean",
    "price_rules",
    "price_validate",
    "product_create",
    "product_image_add",
    "product_image_delete",
    "product_photos_add",
    "product_photos_arrange",
    "product_status_set",
    "product_update",
    "search_index",
    "storefront_admits",
    "storefront_join_request",
    "storefront_membership_decide",
]
