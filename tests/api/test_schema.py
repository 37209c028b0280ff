"""The schema's own promises, checked on every operation (those other engineers add too):
each documents its refusals with the error envelope, and every list the server pages is described
as a page (and every page described is one the server sends)."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.errors import ErrorCode

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def resolve(schema, node):
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_the_error_envelope_lists_every_error_code(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = error["properties"]["error"]
    assert set(body["required"]) == {"code", "message", "fields"}
    assert body["properties"]["code"]["enum"] == [c.value for c in ErrorCode]


def test_every_operation_documents_its_refusals_with_the_envelope(schema):
    missing = []
    for path, method, operation in operations(schema):
        refusals = {status: r for status, r in operation["responses"].items() if status.startswith("4")}
        enveloped = [s for s, r in refusals.items()
                     if r.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == ERROR_REF]
        if not enveloped:
            missing.append(f"{method.upper()} {path}")
            continue
        if "{" in path:
            assert "404" in refusals, f"{method.upper()} {path}: a route with path parameters can answer 404"
        if operation.get("security") != []:
            assert "401" in refusals, f"{method.upper()} {path}: needs authentication but documents no 401"
        if method != "get":
            assert {"400", "409", "422"} <= set(refusals) or operation.get("security") == [] or path.endswith(
                "/auth/token/"), f"{method.upper()} {path}: an unsafe operation takes an Idempotency-Key"
    assert not missing, f"operations without a 4xx described by the error envelope: {missing}"


def test_public_operations_need_no_authentication(schema):
    public = {f"{m.upper()} {p}" for p, m, o in operations(schema) if o.get("security") == []}
    assert {"GET /api/v1/products/", "GET /api/v1/products/{id}/", "GET /api/v1/storefronts/",
            "GET /api/v1/storefronts/{code}/", "POST /api/v1/auth/token/", "POST /api/v1/customs/quote/",
            "GET /api/v1/fx-rates/"} <= public
    assert "POST /api/v1/products/" not in public and "GET /api/v1/orders/" not in public


def _is_page(schema, response_schema) -> bool:
    body = resolve(schema, response_schema)
    return body.get("type") == "object" and {"next", "results"} <= set(body.get("properties", {}))


def _fill(schema, path, client) -> str | None:
    """``path`` with each parameter taken from the data: an enum's first value, or the first item of
    the list above it (its ``id`` or ``code``)."""
    for name in re.findall(r"{(\w+)}", path):
        parameter = next((p for p in schema["paths"][path]["get"].get("parameters", [])
                          if p["in"] == "path" and p["name"] == name), {})
        if parameter.get("schema", {}).get("enum"):
            value = parameter["schema"]["enum"][0]
        else:
            parent = path.split("{" + name + "}")[0]
            parent = re.sub(r"{\w+}", "x", parent)
            response = client.get(parent)
            if response.status_code != 200:
                return None
            body = response.json()
            items = body["results"] if isinstance(body, dict) and "results" in body else body
            if not isinstance(items, list) or not items:
                return None
            value = items[0].get(name if name in items[0] else "id")
        path = path.replace("{" + name + "}", str(value))
    return path


@pytest.mark.django_db
def test_every_list_the_server_pages_is_described_as_a_page(schema, api_as, staff, reference):
    client = api_as(staff)
    checked, wrong = [], []
    for path, method, operation in operations(schema):
        if method != "get" or "200" not in operation["responses"] or path.startswith("/api/v1/test/"):
            continue
        content = operation["responses"]["200"].get("content", {}).get("application/json")
        if content is None:
            continue
        url = _fill(schema, path, client)
        if url is None:
            continue
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("application/json"):
            continue
        body = response.json()
        sent_page = isinstance(body, dict) and {"next", "results"} <= set(body)
        described_page = _is_page(schema, content["schema"])
        checked.append(path)
        if sent_page != described_page:
            wrong.append(f"GET {path}: the server sends {'a page' if sent_page else 'no page'}, the schema "
                         f"describes {'a page' if described_page else 'no page'}")
    assert not wrong, wrong
    # the lists that page and were once described as arrays are among those checked
    assert {"/api/v1/warehouses/{code}/stock/", "/api/v1/warehouses/{code}/movements/", "/api/v1/orders/",
            "/api/v1/products/", "/api/v1/wallets/{currency}/statement/"} <= set(checked), checked
