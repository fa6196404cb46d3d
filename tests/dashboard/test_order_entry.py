"""Order Entry: one Hold fulfillment per house account, validation, and the order page."""
from sqlalchemy import func, select

ADDRESS = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
           "address1": "1 Navy Way", "city": "Arlington", "state": "VA",
           "postal_code": "22202", "country": "US"}


def _lines(*pairs):
    data = {}
    for i in range(4):
        pid, qty = pairs[i] if i < len(pairs) else (0, "")
        data[f"lines-{i}-product_id"] = str(pid)
        data[f"lines-{i}-quantity"] = str(qty)
    return data


def _count(app, model):
    from dashboard.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_order_for_two_houses_gets_two_hold_fulfillments(admin, app, sandbox_account, product):
    east, west = sandbox_account("East"), sandbox_account("West")
    a = product("A-1", account_id=east, price="10.00")
    b = product("B-1", account_id=west, price="5.00")
    c = product("C-1", account_id=east)
    d = product("D-1")  # no house
    response = admin.post("/orders/new", {**ADDRESS, **_lines((a, 2), (b, 1), (c, 1), (d, 1))})
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count('data-status="hold"') == 2
    assert "no fulfillment house assigned" in page
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, FulfillmentEvent, Order
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert str(order.total) == "45.00"
        fs = db.session.scalars(select(Fulfillment).order_by(Fulfillment.id)).all()
        assert {(f.house_account_id, f.status) for f in fs} == {(east, "hold"), (west, "hold")}
        assert sorted(len(f.items) for f in fs) == [1, 2]
        events = db.session.scalars(select(FulfillmentEvent)).all()
        assert {(e.from_status, e.to_status, e.source, e.actor) for e in events} == {
            (None, "hold", "order_entry", "Ada Admin")}
        assert len({f.reference for f in fs}) == 2


def test_hold_delay_pushes_due_time(app, sandbox_account, product, place, clock):
    account = sandbox_account()
    slow = product("SLOW-1", account_id=account, hold_delay_hours=6)
    fast = product("FAST-1", account_id=account)
    _, [fid] = place([(slow, 1), (fast, 1)])
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        f = db.session.get(Fulfillment, fid)
        assert (f.due_at - clock()).total_seconds() == 6 * 3600


def test_bad_order_input_changes_nothing(admin, app, sandbox_account, product):
    from dashboard.models import Fulfillment, Order
    pid = product("A-1", account_id=sandbox_account())
    cases = [({"postal_code": "2220"}, "Enter a US ZIP code"),
             ({"state": "ZZ"}, "two-letter US state code"),
             ({"country": "XX"}, "ISO country code"),
             ({"email": "not-an-email"}, "valid email"),
             ({"first_name": ""}, "First name is required"),
             ({"city": ""}, "City is required")]
    for change, message in cases:
        response = admin.post("/orders/new", {**ADDRESS, **change, **_lines((pid, 1))})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    nothing = admin.post("/orders/new", {**ADDRESS, **_lines()})
    assert "Pick at least one product" in nothing.get_data(as_text=True)
    zero = admin.post("/orders/new", {**ADDRESS, **_lines((pid, 0))})
    assert "Quantity must be 1 to 999" in zero.get_data(as_text=True)
    ghost = admin.post("/orders/new", {**ADDRESS, **_lines((987654, 1))})
    assert "no longer exists" in ghost.get_data(as_text=True)
    assert _count(app, Order) == 0 and _count(app, Fulfillment) == 0


def test_non_us_address_needs_no_state(admin, app, sandbox_account, product):
    pid = product("A-1", account_id=sandbox_account())
    response = admin.post("/orders/new", {**ADDRESS, "country": "de", "state": "",
                                          "postal_code": "10115", **_lines((pid, 1))})
    assert response.status_code == 302


def test_unknown_order_is_404(admin):
    assert admin.get("/orders/424242").status_code == 404
