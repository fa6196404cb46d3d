"""Run part of a dispatch and die by SIGKILL at a chosen point (for the crash tests).

Usage: python tests/jobs/crash_dispatch.py {after_claim|after_send}
"""
import os
import signal
import sys

from dashboard.app import create_app
from dashboard.services import dispatch as dispatching

point = sys.argv[1]
app = create_app()
with app.app_context():
    claimed = dispatching.claim("crashing-run", 1000)
    print(f"claimed {len(claimed)}", flush=True)
    if point == "after_send":
        from dashboard.extensions import db
        from dashboard.models import HouseAccount
        from dashboard.services.house_accounts import adapter_for
        account = db.session.get(HouseAccount, next(iter(claimed.values())).account_id)
        adapter = adapter_for(account)
        payloads = [record.payload for record in claimed.values()]
        for start in range(0, len(payloads), adapter.batch_size):
            adapter.send(payloads[start:start + adapter.batch_size])
        print("sent", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
