"""The fulfillments list: each filter and search narrows the rows; the CSV export streams
the filtered set in chunks."""
import csv
import io
import re


def _ids(client, query):
    response = client.get("/fulfillments/?" + query)
    assert response.status_code == 200
    return {int(i) for i in re.findall(r'data-fulfillment="(\d+)"', response.get_data(
        as_text=True))}


def test_filters_by_status_account_reason_and_date(support, record, failed, sandbox_account,
                                                   clock):
    west = sandbox_account("Sandbox West")
    _, old_hold = record("hold")
    clock.advance(days=3)
    _, west_hold = record("hold", account_id=west)
    _, sku = failed("sku", "Unknown SKU")
    _, address = failed("address")
    assert _ids(support, "status=hold") == {old_hold, west_hold}
    assert _ids(support, f"status=hold&account={west}") == {west_hold}
    assert _ids(support, "reason=sku") == {sku}
    assert _ids(support, "status=failed&reason=address") == {address}
    today = clock().strftime("%Y-%m-%d")
    assert _ids(support, f"since={today}") == {west_hold, sku, address}
    assert _ids(support, f"until={today}") == {old_hold, west_hold, sku, address}
    assert old_hold in _ids(support, "until=2026-11-02") and \
        west_hold not in _ids(support, "until=2026-11-02")
    # nonsense filters are ignored, not errors
    assert len(_ids(support, "status=nope&reason=nope&since=yesterday")) == 4


def test_search_by_order_id_email_name_reference_and_tracking(app, support, record, get):
    from dashboard.extensions import db
    from dashboard.models import Shipment
    grace_order, grace = record("hold")
    _, alan = record("pending_shipment", first_name="Alan", last_name="Turing",
                     email="alan@example.com", values={"tracking_number": "9400111"})
    with app.app_context():
        db.session.add(Shipment(fulfillment_id=alan, tracking_number="1Z999SECOND"))
        db.session.commit()
    assert _ids(support, f"q={grace_order}") == {grace}
    assert _ids(support, "q=ALAN@example.com") == {alan}
    assert _ids(support, "q=turing") == {alan}
    assert _ids(support, "q=Alan+Turing") == {alan}
    assert _ids(support, "q=Grace+Turing") == set()
    assert _ids(support, "q=9400111") == {alan}
    assert _ids(support, "q=1Z999SECOND") == {alan}
    assert _ids(support, f"q={get(grace).reference.lower()}") == {grace}
    assert "No fulfillment matches" in support.get("/fulfillments/?q=nobody").get_data(
        as_text=True)


def test_keyset_pages_do_not_repeat_or_skip(support, record, monkeypatch):
    ids = {record("hold")[1] for _ in range(7)}
    from dashboard.support import fulfillments
    seen, query = [], ""
    original = fulfillments.keyset_page
    monkeypatch.setattr(fulfillments, "keyset_page",
                        lambda s, stmt, col, after, size: original(s, stmt, col, after, 3))
    while True:
        page = support.get("/fulfillments/?" + query).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'data-fulfillment="(\d+)"', page)]
        more = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', page)
        if not more:
            break
        query = more[1].split("?", 1)[1].replace("&amp;", "&")
    assert seen == sorted(ids, reverse=True)


def test_csv_export_streams_every_filtered_row_in_chunks(app, support, record, failed,
                                                         monkeypatch, statements):
    from dashboard.support import fulfillments
    monkeypatch.setattr(fulfillments, "EXPORT_CHUNK", 3)
    failed_ids = {failed("address", "=HYPERLINK(\"http://evil\")")[1] for _ in range(7)}
    record("hold")
    with statements() as seen:
        response = support.get("/fulfillments/export.csv?status=failed")
        assert response.is_streamed
        body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 7
    assert {int(r["fulfillmentId"]) for r in rows} == failed_ids
    assert {r["status"] for r in rows} == {"failed"}
    assert rows[0]["failureMessage"].startswith("'=")  # a spreadsheet will not run it
    chunk_queries = [s for s in seen if "LIMIT" in s.upper() and "fulfillment" in s]
    assert len(chunk_queries) == 3  # 3 + 3 + 1 rows


def test_csv_export_of_nothing_has_only_the_header(support, record):
    from dashboard.support.fulfillments import EXPORT_HEADER
    record("hold")
    body = support.get("/fulfillments/export.csv?status=returned").get_data(as_text=True)
    assert body.splitlines() == [",".join(EXPORT_HEADER)]
