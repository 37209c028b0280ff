"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded with SCHEMATHESIS_HOOKS).

Schemathesis' own ``positive_data_acceptance`` takes any 400 or 422 answer to a schema-valid request
as a constraint missing from the schema. Ours has two kinds of refusal: the shape of the request
(what a serializer field or the query-parameter check refuses: a missing field, an empty list, a
value out of range or of the wrong type) and the rules, which depend on data no schema holds (a
password, the stock, a tariff, a company one belongs to, a product on sale on a storefront). The
config (schemathesis.toml) lets rule refusals through that check; this check is the strict half: a
schema-valid request refused with one of DRF's own field messages means the schema left out the
constraint that refused it.
"""

from __future__ import annotations

import re

import schemathesis
from django.utils.functional import LazyObject
from rest_framework import fields, relations, serializers


def _templates() -> list[re.Pattern]:
    found = set()
    for module in (fields, serializers, relations):
        for obj in vars(module).values():
            if not isinstance(obj, LazyObject) and isinstance(obj, type) and issubclass(obj, fields.Field):
                for cls in obj.__mro__:
                    # The English text of each lazy message (Django is not set up in schemathesis' process).
                    found.update(str(getattr(m, "_args", (m,))[0]) for m in getattr(cls, "default_error_messages", {}).values())
    found.add("Invalid query parameters.")  # the message of core.api.views.check_query
    return [re.compile(re.sub(r"\\\{\w+\\\}", ".*", re.escape(m)) + r"\Z", re.S) for m in sorted(found)]


SHAPE_MESSAGES = _templates()


def _shape_messages(body) -> list[str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return []
    messages = [error.get("message", "")] if error.get("message") == "Invalid query parameters." else []
    for name, values in (error.get("fields") or {}).items():
        for value in values or []:
            if any(p.match(str(value)) for p in SHAPE_MESSAGES):
                messages.append(f"{name}: {value}")
    return messages


@schemathesis.check
def shape_constraints_in_schema(ctx, response, case):
    """A schema-valid request is never refused for its shape."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    if any(component.mode.is_negative for component in meta.components.values()):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    shape = _shape_messages(body)
    if shape:
        raise AssertionError("A schema-valid request was refused for its shape; the schema leaves out the constraint: "
                             + "; ".join(shape))
    return None
