"""The API contract every endpoint shares: token auth, the error envelope, idempotency, access."""

import pytest

from tests.testapp.models import Shipment

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_token_auth_round_trip(api, make_user):
    make_user("alice", "buyer", password="s3cret-pass-word")
    token = api.post("/api/v1/auth/token/", {"username": "alice", "password": "s3cret-pass-word"}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/").json()
    assert me["username"] == "alice" and me["roles"] == ["buyer"]


def test_a_token_request_reads_its_token_and_user_in_one_statement(api, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIRequestFactory

    from core.api.authentication import TokenAuthentication

    user = make_user("alice", "buyer")
    token = Token.objects.create(user=user)
    request = APIRequestFactory().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    with CaptureQueriesContext(connection) as ctx:
        got_user, got_token = TokenAuthentication().authenticate(request)
    assert len(ctx.captured_queries) == 1
    assert (got_user.pk, got_user.username, got_user.is_active, got_token.key, got_token.user_id) == (
        user.pk, "alice", True, token.key, user.pk)
    assert got_token.user is got_user and got_user.password == user.password


@pytest.mark.parametrize("token", ["0" * 40, "nul\x00byte", "x" * 500])
def test_an_unknown_token_is_a_401(api, make_user, token):
    make_user("alice", "buyer")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert_envelope(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_an_inactive_users_token_is_a_401(api, make_user):
    from rest_framework.authtoken.models import Token

    user = make_user("alice", "buyer")
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert_envelope(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_wrong_password_is_a_400_with_the_envelope(api, make_user):
    make_user("alice", "buyer")
    assert_envelope(api.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}), 400, "validation_error")


@pytest.mark.django_db(transaction=True)
def test_login_is_locked_after_ten_failures_per_account(api, make_user):
    make_user("alice", "buyer", password="right-pass-word")
    for _ in range(10):
        api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    # even the right password, from another address, is refused while locked
    resp = api.post("/api/v1/auth/token/", {"username": "alice", "password": "right-pass-word"}, REMOTE_ADDR="10.9.9.9")
    assert_envelope(resp, 429, "login_locked")


def test_400_names_the_field(api_as, buyer):
    client = api_as(buyer)
    shipment = Shipment.objects.create(owner=buyer)
    err = assert_envelope(client.post(f"/api/v1/test/shipments/{shipment.pk}/transition/", {"to": "flying"}), 400, "validation_error")
    assert "to" in err["fields"]


def test_401_without_credentials(api):
    assert_envelope(api.get("/api/v1/me/"), 401, "not_authenticated")


def test_404_for_an_unknown_url_is_json(api):
    assert_envelope(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_405_is_json(api_as, buyer):
    resp = api_as(buyer).delete("/api/v1/me/")
    assert_envelope(resp, 405, "method_not_allowed")


def test_409_illegal_transition(api_as, buyer):
    shipment = Shipment.objects.create(owner=buyer)
    err = assert_envelope(api_as(buyer).post(f"/api/v1/test/shipments/{shipment.pk}/transition/", {"to": "done"}),
                          409, "illegal_transition")
    assert "status" in err["fields"]


def test_403_when_the_role_may_not_fire_the_transition(api_as, buyer):
    shipment = Shipment.objects.create(owner=buyer, status="submitted")
    assert_envelope(api_as(buyer).post(f"/api/v1/test/shipments/{shipment.pk}/transition/", {"to": "accepted"}),
                    403, "transition_not_permitted")


def test_500_is_json_and_leaves_nothing_half_written(api_as, buyer):
    client = api_as(buyer)
    client.raise_request_exception = False
    assert_envelope(client.post("/api/v1/test/shipments/crash/", {}), 500, "server_error")
    assert not Shipment.objects.filter(note="half-written").exists()


def test_another_users_object_is_404_never_403(api_as, buyer, other_buyer):
    theirs = Shipment.objects.create(owner=other_buyer)
    client = api_as(buyer)
    assert_envelope(client.get(f"/api/v1/test/shipments/{theirs.pk}/"), 404, "not_found")
    assert_envelope(client.post(f"/api/v1/test/shipments/{theirs.pk}/transition/", {"to": "submitted"}), 404, "not_found")
    assert [s["id"] for s in client.get("/api/v1/test/shipments/").json()["results"]] == []
    theirs.refresh_from_db()
    assert theirs.status == "draft"


def test_staff_sees_everyones_objects(api_as, staff, buyer):
    theirs = Shipment.objects.create(owner=buyer)
    assert api_as(staff).get(f"/api/v1/test/shipments/{theirs.pk}/").status_code == 200


def test_storefronts_are_public(api, reference):
    codes = [s["code"] for s in api.get("/api/v1/storefronts/").json()]
    assert codes == ["kz", "kg", "uz", "tj", "tm", "cn-uz", "cn-kz"]


def test_schema_and_docs_are_served_offline(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_cursor_pagination_on_long_lists(api_as, buyer):
    Shipment.objects.bulk_create([Shipment(owner=buyer) for _ in range(5)])
    client = api_as(buyer)
    first = client.get("/api/v1/test/shipments/?page_size=2").json()
    assert len(first["results"]) == 2 and "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert not {s["id"] for s in first["results"]} & {s["id"] for s in second["results"]}
