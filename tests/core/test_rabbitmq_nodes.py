"""Scaling out: two Celery worker nodes, each on its own queue, through RabbitMQ (docs/operations.md)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from core.states import history
from tests.conftest import wait_for
from tests.testapp.models import Shipment
from tests.testapp.tasks import accept_and_forward

ROOT = Path(__file__).resolve().parents[2]
RABBITMQ = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
SHIPMENTS = 20


@pytest.fixture
def rabbitmq():
    try:
        with Connection(RABBITMQ, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - the one line that says what is missing
        pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ}: {exc} (start it: service rabbitmq-server start)")
    return RABBITMQ


def start_node(name: str, queue: str, database: str, broker: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "KARAVAN_ENV": "test", "DATABASE_URL": database,
           "CELERY_BROKER_URL": broker}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-n", f"{name}@%h", "-Q", queue,
                             "--pool", "prefork", "--concurrency", "2", "--without-gossip", "--without-mingle",
                             "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_two_nodes_on_separate_queues_carry_a_flow_between_them(rabbitmq, make_user):
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    database = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    run = uuid.uuid4().hex[:8]  # queues of this run only: nothing left from another run is consumed
    first, second = f"karavan-a-{run}", f"karavan-b-{run}"
    owner = make_user("nodes_owner", "buyer")
    shipments = [Shipment.objects.create(owner=owner, status=Shipment.Status.SUBMITTED) for _ in range(SHIPMENTS)]
    nodes = [start_node("accept", first, database, rabbitmq), start_node("finish", second, database, rabbitmq)]
    try:
        with Connection(rabbitmq) as conn:  # the app's own broker stays the suite's; this run speaks AMQP
            for queue in (first, second):  # declared before anything is sent, so that no message is dropped
                app.amqp.queues.select_add(queue)
                app.amqp.queues[queue](conn.default_channel).declare()
            for shipment in shipments:
                accept_and_forward.apply_async(args=(shipment.pk, second), queue=first, connection=conn)
        try:
            done = wait_for(lambda: Shipment.objects.filter(status=Shipment.Status.DONE).count() == SHIPMENTS, timeout=60)
        except AssertionError:
            done = False
    finally:
        for node in nodes:
            node.terminate()
        errors = [node.communicate(timeout=30)[1].decode() for node in nodes]
        with Connection(rabbitmq) as conn:  # the run's queues and exchanges go with it
            for queue in (first, second):
                conn.default_channel.queue_delete(queue)
                conn.default_channel.exchange_delete(queue)
    assert done, "\n".join(errors)
    for shipment in shipments:
        events = history(shipment)
        nodes_of = {e.to_state: e.payload.get("node", "") for e in events}
        # Each step ran once, on the node of its queue.
        assert len(events) == 2 and nodes_of["accepted"].startswith("accept@") and nodes_of["done"].startswith("finish@")
