"""Ids past the database's integer range, in every place a request carries one: a clear
answer, never "integer out of range" from PostgreSQL as a server error."""
from testkit import SANDBOX_KEY  # noqa: F401 (the shared test kit)

HUGE = "3000000000"
API_PASSWORD = "range-check-Pull-pw"


def test_huge_ids_in_dashboard_urls_and_filters(admin, app):
    for path in (f"/orders/{HUGE}", f"/products/{HUGE}/edit", f"/fulfillments/{HUGE}",
                 f"/admin/plugins/accounts/{HUGE}/edit", f"/review/{HUGE}"):
        assert admin.get(path).status_code == 404, path
    for path in (f"/fulfillments/?account={HUGE}", f"/fulfillments/?q={HUGE}",
                 f"/products/?after={HUGE}", f"/fulfillments/?after={HUGE}"):
        assert admin.get(path).status_code == 200, path


def _api_user(app):
    """A real API user, so each call gets past the login to the id parsing."""
    from werkzeug.security import generate_password_hash

    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import ApiUser, HouseAccount
    with app.app_context():
        account = HouseAccount(adapter_key="shipworks", title="ShipWorks",
                               credentials_encrypted=credentials.encrypt({}))
        user = ApiUser(login_id="range-check", password_hash=generate_password_hash(API_PASSWORD),
                       permissions=",".join(ApiUser.PERMISSIONS), ip_allowlist="127.0.0.1",
                       accounts=[account])
        db.session.add(user)
        db.session.commit()


def test_huge_ids_in_the_api(app):
    _api_user(app)
    client = app.test_client()
    for path, name in (("/order/query/", "orderId"), ("/fulfillment/query/", "orderId"),
                       ("/fulfillment/update/", "orderId"),
                       ("/fulfillment/update/", "fulfillmentId")):
        response = client.get(path, query_string={
            "loginId": "range-check", "password": API_PASSWORD, name: HUGE,
            "startDate": "11/02/2026", "endDate": "11/02/2026", "fulfillmentStatus": "SHIPPED"})
        assert response.status_code == 200, (path, name)
        answer = response.json
        assert answer["result"] == "ERROR", (path, name, answer)
        assert "must be a number from 1 to 2147483647" in str(answer["message"]), \
            (path, name, answer)
