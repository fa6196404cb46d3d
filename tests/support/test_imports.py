"""CSV import of tracking: a preview with row-level errors, nothing applied from a file
with errors unless the user chooses the valid rows, one transaction for the whole file."""
import io
import re

from sqlalchemy import event
from sqlalchemy.orm import Session

HEADER = "orderId,fulfillmentId,tracking,carrier,method\n"


def _upload(client, text, name="tracking.csv"):
    token = client.csrf("/imports/")
    return client.client.post("/imports/", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data")


def _preview(client, text):
    response = _upload(client, text)
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    return path, client.get(path).get_data(as_text=True)


def _row(page, line):
    return re.search(rf'data-line="{line}".*?</tr>', page, re.S)[0]


def _apply(client, path, **data):
    """Apply and count the commits the request makes."""
    token = client.csrf(path)
    commits = []

    def count(_session):
        commits.append(1)
    event.listen(Session, "after_commit", count)
    try:
        response = client.client.post(path + "/apply", data={"csrf_token": token, **data})
    finally:
        event.remove(Session, "after_commit", count)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True), len(commits)


def test_valid_file_previews_then_moves_records_in_one_transaction(support, record, get):
    o1, hold = record("hold")
    o2, pending = record("pending")
    path, page = _preview(support, HEADER + f"{o1},{hold},9400100000000000000001,usps,Priority\n"
                                   f"{o2},{pending},1Z999AA10123456784,,\n"
                                   f"{o2},{pending},1Z999AA10123456785,ups,Ground\n")
    assert "Hold → Pending Shipment" in _row(page, 2)
    assert "Pending → Pending Shipment" in _row(page, 3)
    assert "Adds a package" in _row(page, 4)
    assert get(hold).status == "hold"  # a preview changes nothing
    applied, commits = _apply(support, path)
    assert commits == 1
    f, g = get(hold), get(pending)
    assert (f.status, f.tracking_number, f.ship_method) == \
        ("pending_shipment", "9400100000000000000001", "Priority")
    assert g.status == "pending_shipment" and len(g.shipments) == 2
    assert [(e.source, e.actor) for e in f.events][-1] == ("staff", "Sam Support")
    assert "2 moved to Pending Shipment" in applied and "data-applied" in applied
    again, _ = _apply(support, path)
    assert "already applied" in again


def test_bad_rows_are_shown_and_nothing_is_applied_without_the_choice(support, record,
                                                                      failed, get):
    o1, hold = record("hold")
    o2, other = record("hold")
    o3, rejected = failed()
    _, shipped = record("shipped")
    rows = [f"{o1},{hold},TRACK1,usps,",            # 2 valid
            f"999999,{hold},TRACK2,,",              # 3 unknown order
            f"{o2},{hold},TRACK3,,",                # 4 fulfillment of another order
            f"{o2},{other},,,",                     # 5 empty tracking
            f"{o2},{other},{'9' * 65},,",           # 6 too long
            f"{o3},{rejected},TRACK4,,",            # 7 status rules refuse
            f"{o1},{hold},TRACK1,usps,",            # 8 duplicate of line 2
            f"{o1},{hold}",                         # 9 too few values
            f"{o2},abc,TRACK5,,"]                   # 10 unknown fulfillment
    path, page = _preview(support, HEADER + "\n".join(rows) + "\n")
    assert "1</strong> row ready" in page and "8</strong> with errors" in page
    for line, message in {3: "Unknown order 999999.",
                          4: f"Fulfillment {hold} is not part of order {o2}.",
                          5: "The tracking number is empty.",
                          6: "The tracking number is longer than 64 characters.",
                          7: f"Fulfillment {rejected} is Failed; tracking can only be imported",
                          8: "Duplicate of line 2.", 9: "Expected 5 values, found 2.",
                          10: "Unknown fulfillment “abc”."}.items():
        assert message in _row(page, line), line
    refused, commits = _apply(support, path)
    assert "Nothing was applied: 8 rows have errors" in refused and commits == 0
    assert get(hold).status == "hold" and get(shipped).status == "shipped"
    applied, commits = _apply(support, path, valid_only="y")
    assert commits == 1
    assert get(hold).status == "pending_shipment" and get(other).status == "hold"
    assert get(rejected).status == "failed"
    assert "1 moved to Pending Shipment" in applied and "8 rows with errors skipped" in applied


def test_tracking_for_a_shipped_record_is_recorded_without_a_move(support, record, get):
    order_id, fid = record("shipped")
    path, page = _preview(support, HEADER + f"{order_id},{fid},NEWPKG1,,\n")
    assert "Already Shipped: the package is recorded, the status stays." in page
    _apply(support, path)
    f = get(fid)
    assert f.status == "shipped" and [s.tracking_number for s in f.shipments] == ["NEWPKG1"]


def test_wrong_columns_malformed_and_empty_files_are_refused_whole(support, record, get):
    order_id, fid = record("hold")
    cases = {"order,fulfillment,number\n1,2,3\n": "Wrong columns (missing order_id",
             "orderId,fulfillmentId,tracking,colour\n1,2,3,red\n": "unknown “colour”",
             HEADER + f'{order_id},{fid},"TRACK\n': "not a readable CSV file",
             "\n\n": "The file is empty"}
    for text, message in cases.items():
        path, page = _preview(support, text)
        assert message in page, text
        refused, commits = _apply(support, path, valid_only="y")
        assert "Nothing was applied" in refused and commits == 0
    assert get(fid).status == "hold"


def test_upload_must_be_a_utf8_csv_file(support):
    response = _upload(support, "x", name="tracking.xlsx")
    assert response.status_code == 400 and "Upload a .csv file" in response.get_data(
        as_text=True)
    token = support.csrf("/imports/")
    latin = support.client.post("/imports/", data={
        "csrf_token": token, "file": (io.BytesIO("orderId,café".encode("latin-1")), "t.csv")},
        content_type="multipart/form-data")
    assert latin.status_code == 400 and "not UTF-8" in latin.get_data(as_text=True)
    missing = support.post("/imports/", {})
    assert missing.status_code == 400 and "Choose a CSV file" in missing.get_data(as_text=True)
    assert "No tracking file imported yet" in missing.get_data(as_text=True)


def test_imports_need_a_login(app):
    response = app.test_client().get("/imports/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
