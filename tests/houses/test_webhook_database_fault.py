"""A database that fails while a webhook is applied: nothing half-applied, and the house's
retry of the same delivery is applied exactly once."""
import calendar

from faults.figures import report
from houses_kit import CREDENTIALS, counts, fulfillment, shipments
from sqlalchemy.exc import OperationalError

from simulators.shipbob import signed_delivery

SECRET = CREDENTIALS["shipbob"]["webhook_secrets"].split()[-1]


def test_failed_commit_during_a_webhook(app, sent, clock, monkeypatch):
    from dashboard.extensions import db
    setup = sent("shipbob")
    setup.sim.control("ship", {"key": setup.reference,
                               "packages": [{"tracking_number": "9400100000000000000001"}]})
    resource = setup.sim.app.extensions["house"].webhook_resource(setup.reference,
                                                                  "order.shipped", None)
    headers, body = signed_delivery("order.shipped", resource, SECRET,
                                    timestamp=calendar.timegm(clock().timetuple()))
    before = counts(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    real_commit = db.session.commit

    def failing_commit():
        raise OperationalError("COMMIT", {}, Exception("could not write to disk"))
    monkeypatch.setattr(db.session, "commit", failing_commit)
    client = app.test_client()
    response = client.post(f"/webhooks/shipbob/{setup.token}", data=body, headers=headers)
    assert response.status_code == 500  # the house retries a 5xx
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert counts(app) == before
    assert fulfillment(app, setup.fid).status == "pending" and shipments(app, setup.fid) == {}
    retried = client.post(f"/webhooks/shipbob/{setup.token}", data=body, headers=headers)
    again = client.post(f"/webhooks/shipbob/{setup.token}", data=body, headers=headers)
    assert retried.status_code == again.status_code == 200
    assert fulfillment(app, setup.fid).status == "pending_shipment"
    assert list(shipments(app, setup.fid)) == ["9400100000000000000001"]
    report("database failed commit during a webhook", "ShipBob order.shipped, then retried",
           records=1, lost=0, duplicated=0, failed=0)
