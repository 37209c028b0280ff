"""How long a demo order takes from paid to delivered with nobody acting (`make demo` running).

Logs in as a demo buyer over the API, orders the first product in stock on the buyer's storefront,
pays, and polls the order until it is delivered, printing each status as it comes and the time from
paid. Usage: .venv/bin/python bench/demo/order_clock.py [--url http://127.0.0.1:8000] [--buyer buyer_kz]
"""

import argparse
import json
import sys
import time
import urllib.request

ROADS = {"buyer_kz": ("cn-kz", {"country": "KZ", "city": "Almaty", "address": "Abay Ave 10", "name": "Aigerim N.",
                                "phone": "+7 701 123 4567", "id_number": "900307400102"}),
         "buyer_cn": ("kz", {"country": "CN", "city": "Urumqi", "address": "88 Xinhua Road", "name": "Li Wei",
                             "phone": "+86 138 0013 8000", "id_number": "650102199003072510"}),
         "buyer_uz": ("cn-uz", {"country": "UZ", "city": "Tashkent", "address": "Amir Temur 1", "name": "Dilnoza K.",
                                "phone": "+998 90 123 4567", "id_number": "AA1234567"})}


def call(url, method="GET", body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    request = urllib.request.Request(url, method=method, data=data, headers=headers)  # noqa: S310 - a local demo server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a local demo server
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--buyer", default="buyer_kz", choices=sorted(ROADS))
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    api = args.url.rstrip("/") + "/api/v1"
    token = call(f"{api}/auth/token/", "POST", {"username": args.buyer, "password": "karavan-demo"})["token"]
    storefront, ship_to = ROADS[args.buyer]
    products = call(f"{api}/products/?storefront={storefront}&in_stock=true", token=token)["results"]
    order = call(f"{api}/orders/", "POST", {"storefront": storefront, "lines": [{"product": products[0]["id"], "quantity": 1}],
                                           "ship_to": ship_to}, token=token)
    print(f"order {order['id']}: {order['status']}, road {order['road']}, total {order['total']['amount']} {order['currency']}")
    call(f"{api}/orders/{order['id']}/pay/", "POST", {}, token=token)
    paid, seen = time.monotonic(), "paid"
    print(f"{0:7.1f} s  paid")
    while time.monotonic() - paid < args.timeout:
        current = call(f"{api}/orders/{order['id']}/", token=token)
        if current["status"] != seen:
            seen = current["status"]
            place = current["events"][-1]["place"]
            print(f"{time.monotonic() - paid:7.1f} s  {seen}" + (f" at {place}" if place else ""))
        if seen in ("delivered", "returned", "cancelled"):
            print(f"paid -> {seen}: {time.monotonic() - paid:.1f} s")
            return 0 if seen == "delivered" else 1
        time.sleep(1)
    print(f"not delivered within {args.timeout:.0f} s (status {seen})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
