"""Settings of the Celery workers the fault tests start as subprocesses: the suite's own
(``tests.settings``) plus what only these tests need, read from the environment the test gives:

* ``FAULTS_VISIBILITY_TIMEOUT``: seconds after which Redis hands an unacknowledged message (that of
  a worker killed mid-task) to another worker; production keeps 6 hours, the test a few seconds so
  that the redelivery happens within the test.
* ``FAULTS_PAYOUT_DELAY``: seconds the payout simulator waits before answering, so that a payout is
  provably at the bank (``processing``) when the worker is killed.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import CELERY_BROKER_TRANSPORT_OPTIONS

if os.environ.get("FAULTS_VISIBILITY_TIMEOUT"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS,
                                       "visibility_timeout": float(os.environ["FAULTS_VISIBILITY_TIMEOUT"])}

if os.environ.get("FAULTS_PAYOUT_DELAY"):
    import time

    from payments.gateways import payouts as _payouts

    _send = _payouts.SimulatorPayoutGateway.send
    _delay = float(os.environ["FAULTS_PAYOUT_DELAY"])

    def _slow_send(self, **kwargs):
        time.sleep(_delay)
        return _send(self, **kwargs)

    _payouts.SimulatorPayoutGateway.send = _slow_send
