"""CRM > Products: create, edit, search, paginate, and refuse bad input."""
from sqlalchemy import func, select


def _count(app):
    from dashboard.extensions import db
    from dashboard.models import Product
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Product))


GOOD = {"name": "Shoe", "sku": "SHOE-9", "price": "49.50", "shippable": "y",
        "house_account_id": "0", "hold_delay_hours": "0"}


def test_create_product_with_account_and_delay(admin, app, sandbox_account):
    account_id = sandbox_account()
    response = admin.post("/products/new", {**GOOD, "house_account_id": str(account_id),
                                            "hold_delay_hours": "6"})
    assert response.status_code == 302
    from dashboard.extensions import db
    from dashboard.models import Product
    with app.app_context():
        p = db.session.scalar(select(Product))
        assert (p.sku, str(p.price), p.house_account_id, p.hold_delay_hours, p.shippable) == \
            ("SHOE-9", "49.50", account_id, 6, True)


def test_bad_product_input_is_refused_next_to_the_field(admin, app, product):
    product("TAKEN")
    cases = [({"name": ""}, "Name is required"), ({"sku": "bad sku!"}, "letters, digits"),
             ({"sku": "taken"}, "already uses this SKU"), ({"price": "-1"}, "price of 0 or more"),
             ({"price": "abc"}, "Not a valid decimal"), ({"hold_delay_hours": "9999"}, "0 to 720"),
             ({"house_account_id": "999"}, "Not a valid choice")]
    for change, message in cases:
        response = admin.post("/products/new", {**GOOD, **change})
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    assert _count(app) == 1


def test_edit_product_and_unknown_id(admin, app, product):
    pid = product("E-1")
    page = admin.get(f"/products/{pid}/edit").get_data(as_text=True)
    assert 'value="E-1"' in page
    response = admin.post(f"/products/{pid}/edit", {**GOOD, "sku": "E-1", "name": "Renamed"})
    assert response.status_code == 302
    assert "Renamed" in admin.get("/products/").get_data(as_text=True)
    assert admin.get("/products/99999/edit").status_code == 404


def test_search_and_keyset_pages(admin, app, product):
    for i in range(55):
        product(f"P-{i:03d}", name=f"Widget {i:03d}")
    product("ZZ-1", name="Gadget")
    first = admin.get("/products/").get_data(as_text=True)
    assert first.count("data-sku=") == 50 and "Next page" in first
    import re
    after = re.search(r'href="[^"]*after=(\d+)"', first).group(1)
    second = admin.get(f"/products/?after={after}").get_data(as_text=True)
    assert second.count("data-sku=") == 6 and "First page" in second
    found = admin.get("/products/?q=gadg").get_data(as_text=True)
    assert found.count("data-sku=") == 1 and "ZZ-1" in found
    none = admin.get("/products/?q=nothing-like-this").get_data(as_text=True)
    assert "No product matches" in none


def test_support_can_see_products(support, product):
    product("S-1")
    assert "S-1" in support.get("/products/").get_data(as_text=True)
