"""Ids past the database's integer range, in every place a request carries one: a clear
answer, never "integer out of range" from PostgreSQL as a server error."""
from testkit import SANDBOX_KEY  # noqa: F401 (the shared test kit)

HUGE = "3000000000"


def test_huge_ids_in_dashboard_urls_and_filters(admin, app):
    for path in (f"/orders/{HUGE}", f"/products/{HUGE}/edit", f"/fulfillments/{HUGE}",
                 f"/admin/plugins/accounts/{HUGE}/edit", f"/review/{HUGE}"):
        assert admin.get(path).status_code == 404, path
    for path in (f"/fulfillments/?account={HUGE}", f"/fulfillments/?q={HUGE}",
                 f"/products/?after={HUGE}", f"/fulfillments/?after={HUGE}"):
        assert admin.get(path).status_code == 200, path


def test_huge_ids_in_the_api(app):
    client = app.test_client()
    for path in ("/order/query/", "/fulfillment/query/", "/fulfillment/update/"):
        response = client.get(f"{path}?loginId=x&password=y&orderId={HUGE}&fulfillmentId={HUGE}")
        assert response.status_code == 200 and response.json["result"] == "ERROR", path
