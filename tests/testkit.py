"""Constants and helpers the tests share (importable, unlike conftest modules)."""
from __future__ import annotations

from datetime import datetime, timedelta

#: the keys every test app and its child processes share (a database other than SQLite
#: refuses to start without them, as on a multi-host deployment)
TEST_KEYS = {"SECRET_KEY": "test-secret",
             "CREDENTIAL_KEYS": "Fece5P6kEmoWPiuPdTRfMdrP2sxpSTy7oPZnDrebJ7I="}
SANDBOX_KEY = "sbx_feedfacecafe0001"
PASSWORD = "correct horse battery"

CUSTOMER = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
            "phone": "", "address1": "1 Navy Way", "address2": "", "city": "Arlington",
            "state": "VA", "postal_code": "22202", "country": "US"}


class Clock:
    """A clock a test sets and advances; the app and the Sandbox read it."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


class Browserless:
    """A test client that logs in and posts forms with their CSRF token, like a browser."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str) -> str:
        import re
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD):
        token = self.csrf("/login")
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token})

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, *, form_page: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(form_page or path))
        return self.client.post(path, data=data, **kw)




def bulk_hold(app, account_id: int, sku: str, count: int, at: datetime,
              *, price: str = "10.00") -> list[int]:
    """Insert ``count`` held fulfillments of one product quickly (Core, batched), each with
    its own order, item and first event; returns their ids in creation order."""
    from decimal import Decimal

    from sqlalchemy import bindparam, insert, select

    from dashboard.extensions import db
    from dashboard.models import (
        Fulfillment,
        FulfillmentEvent,
        FulfillmentItem,
        Order,
        OrderItem,
        Product,
    )
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            product = Product(name=f"Product {sku}", sku=sku, price=Decimal(price),
                              house_account_id=account_id)
            db.session.add(product)
            db.session.flush()
        ids: list[int] = []
        for start in range(0, count, 1000):
            n = min(1000, count - start)
            order_ids = db.session.scalars(insert(Order).returning(
                Order.id, sort_by_parameter_order=True), [{
                "email": f"c{start + i}@example.com", "first_name": "Casey",
                "last_name": f"Buyer{start + i}", "phone": "", "address1": "1 Main St",
                "address2": "", "city": "Austin", "state": "TX", "postal_code": "73301",
                "country": "US", "total": Decimal(price), "created_at": at, "updated_at": at,
                "created_by": "bulk"} for i in range(n)]).all()
            item_ids = db.session.scalars(insert(OrderItem).returning(
                OrderItem.id, sort_by_parameter_order=True), [{
                "order_id": oid, "product_id": product.id, "name": product.name, "sku": sku,
                "quantity": 1, "price": Decimal(price), "shippable": True}
                for oid in order_ids]).all()
            f_ids = db.session.scalars(insert(Fulfillment).returning(
                Fulfillment.id, sort_by_parameter_order=True), [{
                "reference": Fulfillment.new_reference(), "order_id": oid,
                "house_account_id": account_id, "status": "hold", "due_at": at,
                "created_at": at, "updated_at": at, "attempts": 0, "outcome_unknown": False,
                "last_error": "", "carrier": "", "ship_method": "", "failure_message": "",
                "carrier_exception": "", "tracking_stale": False, "is_reshipment": False,
                "rma_number": ""} for oid in order_ids]).all()
            db.session.execute(insert(FulfillmentItem), [{
                "fulfillment_id": fid, "order_item_id": iid, "product_id": product.id,
                "name": product.name, "sku": sku, "quantity": 1, "price": Decimal(price)}
                for fid, iid in zip(f_ids, item_ids, strict=True)])
            items = OrderItem.__table__
            db.session.execute(items.update().where(items.c.id == bindparam("_id"))
                               .values(fulfillment_id=bindparam("_fid")),
                               [{"_id": iid, "_fid": fid}
                                for iid, fid in zip(item_ids, f_ids, strict=True)])
            db.session.execute(insert(FulfillmentEvent), [{
                "fulfillment_id": fid, "from_status": None, "to_status": "hold",
                "source": "order_entry", "actor": "bulk", "detail": "", "applied": True,
                "created_at": at} for fid in f_ids])
            db.session.commit()
            ids.extend(f_ids)
        return ids
