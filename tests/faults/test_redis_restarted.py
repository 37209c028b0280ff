"""The broker restarted in the middle of the parcel road: a private Redis that keeps nothing on disk,
so every queued message (and every countdown the worker held) is lost with it. The worker reconnects
by itself, and the beat sweeps, run here as beat would, redo what was lost: every order still
reaches ``delivered``, and nothing happened twice."""

import time

import pytest

from tests.conftest import wait_for

from .conftest import assert_all_invariants
from .test_worker_killed import (
    MIDWAY,
    ORDERS,
    ROAD_ENV,
    assert_each_order_took_the_road_once,
    drive_to_the_end,
    paid_orders,
    road_settings,  # noqa: F401 - a fixture
    status_counts,
)

pytestmark = [pytest.mark.faults, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_redis_restarted_midway_through_the_road(private_broker, workers, road_settings, make_seller,  # noqa: F811
                                                  make_user):
    redis, _app = private_broker
    ids = paid_orders(make_seller, make_user, ORDERS)
    env = {k: v for k, v in ROAD_ENV.items() if k != "FAULTS_VISIBILITY_TIMEOUT"}  # production's 6 hours
    worker = workers(redis.url, env)

    def in_flight():
        counts = status_counts(ids)
        return sum(counts.get(s, 0) for s in MIDWAY) >= 3 and counts.get("delivered", 0) < ORDERS and counts

    try:
        wait_for(in_flight, timeout=90, interval=0.02)
    except AssertionError:
        raise AssertionError(f"{status_counts(ids)}\n{worker.output()}") from None
    redis.kill()
    time.sleep(1.5)
    redis.start()  # empty: the queues, the unacknowledged messages and the bindings are gone
    assert redis.client().dbsize() == 0

    drive_to_the_end(ids, worker)
    worker.stop()

    assert_each_order_took_the_road_once(ids)
    assert_all_invariants()
