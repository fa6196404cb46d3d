"""Error pages are drawn inside the layout for people, and in JSON for the callers of the
API and the webhooks; a 500 rolls the session back before drawing its page."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select


def test_a_missing_page_is_shown_inside_the_layout(admin):
    response = admin.get("/orders/999999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is no such page or record." in page
    assert "Status board" in page and "Log out" in page  # the layout's navigation


def test_a_page_support_may_not_open_says_so_in_the_layout(support):
    response = support.get("/admin/plugins/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Your account may not open this page." in page and "Status board" in page


def test_a_form_without_its_csrf_token_is_refused_with_a_page_that_says_why(admin):
    response = admin.client.post("/products/new", data={"name": "X", "sku": "X-1",
                                                        "price": "1.00"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "CSRF token" in page and "Status board" in page


def test_webhook_and_api_callers_get_json(app):
    client = app.test_client()
    response = client.post("/webhooks/no-such-house/token")
    assert response.status_code == 404
    assert response.json == {"ok": False, "error": response.json["error"]}
    response = client.get("/no/such/path", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["result"] == "ERROR"


@pytest.fixture
def failing_route(app):
    """A view whose write fails half-way, as a database error would leave it."""
    from dashboard.extensions import db
    from dashboard.models import Product

    def broken():
        db.session.commit()  # an earlier step committed: loaded objects (the user) expire
        db.session.add_all([Product(name="A", sku="DUP-1", price=1),
                            Product(name="B", sku="DUP-1", price=1)])
        db.session.flush()  # the unique SKU fails here; the session needs a rollback
        return "unreachable"

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does


def test_a_server_error_rolls_back_and_still_draws_the_layout(app, failing_route, admin):
    from dashboard.extensions import db
    from dashboard.models import Product
    response = admin.get("/broken-for-test")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    # the layout reads the (expired) logged-in user from the database: only a session
    # rolled back after the failed flush can
    assert "Something went wrong on our side" in page and "Log out" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 0
