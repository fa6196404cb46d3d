"""Admin › an account's SKU mappings and ship profiles, and what dispatch sends with them."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select
from testkit import CUSTOMER


@pytest.fixture
def account(sandbox_account):
    return sandbox_account(title="Sandbox East")


def _rows(app, model):
    from dashboard.extensions import db
    with app.app_context():
        rows = db.session.scalars(select(model).order_by(model.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _mappings(app):
    from dashboard.models import SkuMapping
    return [(m.house_account_id, m.product_sku, m.house_sku) for m in _rows(app, SkuMapping)]


def _profiles(app):
    from dashboard.models import ShipProfile
    return {p.name: p for p in _rows(app, ShipProfile)}


def _profile_of(app, product_id):
    from dashboard.extensions import db
    from dashboard.models import Product
    with app.app_context():
        return db.session.get(Product, product_id).ship_profile_id


# ------------------------------------------------------------------ SKU mappings


def test_does_an_admin_map_a_sku_and_see_it_listed(admin, app, account, product):
    product("SHOE-1", account_id=account)
    path = f"/admin/accounts/{account}/skus"
    empty = admin.get(path).get_data(as_text=True)
    assert "No SKU is mapped yet" in empty
    response = admin.post(path, {"product_sku": "shoe-1", "house_sku": "WH-SHOE-001"},
                          follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "SHOE-1 now goes to “Sandbox East” as WH-SHOE-001" in page
    assert "WH-SHOE-001" in page
    assert _mappings(app) == [(account, "SHOE-1", "WH-SHOE-001")]


@pytest.mark.parametrize("data, message", [
    ({"product_sku": "NOPE-9", "house_sku": "X"}, "No product has this SKU"),
    ({"product_sku": "", "house_sku": "X"}, "Enter the product&#39;s SKU"),
    ({"product_sku": "SHOE-1", "house_sku": ""}, "Enter the SKU the house uses"),
    ({"product_sku": "SHOE-1", "house_sku": "SHOE-1"}, "no mapping is needed"),
    ({"product_sku": "SHOE-1", "house_sku": "X" * 101}, "longer than 100"),
], ids=["unknown-sku", "no-product-sku", "no-house-sku", "same-sku", "too-long"])
def test_is_a_bad_mapping_refused_next_to_its_field(admin, app, account, product, data,
                                                    message):
    product("SHOE-1", account_id=account)
    response = admin.post(f"/admin/accounts/{account}/skus", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "field-error" in page
    assert _mappings(app) == []


def test_is_a_sku_mapped_once_per_account_but_again_for_another(admin, app, account,
                                                                sandbox_account, product):
    other = sandbox_account(title="Sandbox West")
    product("SHOE-1", account_id=account)
    assert admin.post(f"/admin/accounts/{account}/skus",
                      {"product_sku": "SHOE-1", "house_sku": "A"}).status_code == 302
    again = admin.post(f"/admin/accounts/{account}/skus",
                       {"product_sku": "SHOE-1", "house_sku": "B"})
    assert again.status_code == 400 and "already mapped" in again.get_data(as_text=True)
    assert admin.post(f"/admin/accounts/{other}/skus",
                      {"product_sku": "SHOE-1", "house_sku": "B"}).status_code == 302
    assert _mappings(app) == [(account, "SHOE-1", "A"), (other, "SHOE-1", "B")]


def test_are_edit_and_delete_confirmed_and_kept_to_their_account(admin, app, account,
                                                                 sandbox_account, product):
    other = sandbox_account(title="Sandbox West")
    product("SHOE-1", account_id=account)
    admin.post(f"/admin/accounts/{account}/skus", {"product_sku": "SHOE-1", "house_sku": "A"})
    from dashboard.models import SkuMapping
    [mapping] = _rows(app, SkuMapping)
    base = f"/admin/accounts/{account}/skus/{mapping.id}"
    assert admin.get(f"/admin/accounts/{other}/skus/{mapping.id}/edit").status_code == 404
    assert admin.post(f"{base}/edit", {"product_sku": "SHOE-1", "house_sku": "B"}
                      ).status_code == 302
    assert _mappings(app) == [(account, "SHOE-1", "B")]
    confirm = admin.get(f"{base}/delete").get_data(as_text=True)
    assert "Stop sending SHOE-1 as B?" in confirm and _mappings(app)
    deleted = admin.post(f"{base}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Deleted the mapping of SHOE-1" in deleted and _mappings(app) == []


def test_is_a_post_without_csrf_refused(admin, app, account, product):
    product("SHOE-1", account_id=account)
    response = admin.client.post(f"/admin/accounts/{account}/skus",
                                 data={"product_sku": "SHOE-1", "house_sku": "A"})
    assert response.status_code == 400 and _mappings(app) == []


@pytest.mark.parametrize("path", ["skus", "profiles", "skus/1/edit", "profiles/1/delete"])
def test_are_mappings_for_admins_only(support, app, account, path):
    client = app.test_client()
    assert support.get(f"/admin/accounts/{account}/{path}").status_code == 403
    anonymous = client.get(f"/admin/accounts/{account}/{path}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_is_an_unknown_account_404(admin):
    assert admin.get("/admin/accounts/999/skus").status_code == 404
    assert admin.get("/admin/accounts/999/profiles").status_code == 404


# ------------------------------------------------------------------ ship profiles


def _profile_form(**changes):
    return {"name": "Express", "house_code": "USPS Priority Mail Express", "carrier": "USPS",
            "method": "Priority Mail Express", "product_skus": "", **changes}


def test_does_an_admin_add_profiles_and_point_products_at_one(admin, app, account, product):
    shoe, hat = product("SHOE-1", account_id=account), product("HAT-1", account_id=account)
    path = f"/admin/accounts/{account}/profiles"
    assert "No ship profile yet" in admin.get(path).get_data(as_text=True)
    assert admin.post(path, _profile_form(name="Standard", house_code="Ground",
                                          is_default="y")).status_code == 302
    response = admin.post(path, _profile_form(product_skus="shoe-1\n"), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Added ship profile “Express”" in page and "Default" in page
    profiles = _profiles(app)
    assert profiles["Standard"].is_default and not profiles["Express"].is_default
    assert _profile_of(app, shoe) == profiles["Express"].id and _profile_of(app, hat) is None


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "Give the profile a name"),
    ({"house_code": ""}, "Enter the house&#39;s code"),
    ({"name": "standard"}, "already has a profile with this name"),
    ({"is_default": "y"}, "“Standard” is already this account&#39;s default"),
    ({"product_skus": "SHOE-1, NOPE-2"}, "No product of this account has the SKU NOPE-2"),
    ({"product_skus": "ELSEWHERE-1"}, "No product of this account has the SKU ELSEWHERE-1"),
], ids=["no-name", "no-code", "same-name", "second-default", "unknown-sku",
        "other-accounts-product"])
def test_is_a_bad_profile_refused_next_to_its_field(admin, app, account, sandbox_account,
                                                    product, changes, message):
    product("SHOE-1", account_id=account)
    product("ELSEWHERE-1", account_id=sandbox_account(title="Other"))
    path = f"/admin/accounts/{account}/profiles"
    assert admin.post(path, _profile_form(name="Standard", is_default="y")).status_code == 302
    response = admin.post(path, _profile_form(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert list(_profiles(app)) == ["Standard"]


def test_does_editing_a_profile_change_which_products_use_it(admin, app, account, product):
    shoe, hat = product("SHOE-1", account_id=account), product("HAT-1", account_id=account)
    path = f"/admin/accounts/{account}/profiles"
    admin.post(path, _profile_form(product_skus="SHOE-1"))
    profile = _profiles(app)["Express"]
    edit = f"{path}/{profile.id}/edit"
    assert "SHOE-1" in admin.get(edit).get_data(as_text=True)
    assert admin.post(edit, _profile_form(house_code="PME", product_skus="HAT-1")
                      ).status_code == 302
    assert _profiles(app)["Express"].house_code == "PME"
    assert (_profile_of(app, shoe), _profile_of(app, hat)) == (None, profile.id)


def test_does_deleting_a_profile_ask_first_and_free_its_products(admin, app, account,
                                                                 product):
    shoe = product("SHOE-1", account_id=account)
    path = f"/admin/accounts/{account}/profiles"
    admin.post(path, _profile_form(product_skus="SHOE-1"))
    profile = _profiles(app)["Express"]
    confirm = admin.get(f"{path}/{profile.id}/delete").get_data(as_text=True)
    assert "1 product uses it" in confirm and _profiles(app)
    assert admin.post(f"{path}/{profile.id}/delete").status_code == 302
    assert _profiles(app) == {} and _profile_of(app, shoe) is None


# ------------------------------------------------------------------ what dispatch sends


HELD = {  # where each simulator keeps the service and the item SKUs of an order
    "shipstation": lambda o: (o["requestedShippingService"], [i["sku"] for i in o["items"]]),
    "shipbob": lambda o: (o["shipping_method"], [p["reference_id"] for p in o["products"]]),
    "shipmonk": lambda o: (o["requested_shipping_service"], [i["sku"] for i in o["items"]]),
}


def _held_order(sim, key):
    house = sim.app.extensions["house"]
    if sim.key == "shipmonk":
        return house.orders[house.find_slot(key)]
    return house.find_by_key(key) if sim.key == "shipstation" else house.find(key)


@pytest.mark.parametrize("key", list(HELD))
def test_does_every_house_get_the_house_sku_and_ship_code(app, admin, simulator,
                                                          house_account, product, place,
                                                          key):
    from houses_kit import fulfillment

    from dashboard.services.dispatch import dispatch
    sim = simulator(key)
    account_id, _token = house_account(key, sim.api_url)
    ours = product("CRM-WIDGET", account_id=account_id)
    plain = product("GADGET-2", account_id=account_id)
    admin.post(f"/admin/accounts/{account_id}/skus",
               {"product_sku": "CRM-WIDGET", "house_sku": "WIDGET-1"})
    profiles = f"/admin/accounts/{account_id}/profiles"
    admin.post(profiles, _profile_form(name="Standard", house_code="Ground-Code",
                                       is_default="y"))
    admin.post(profiles, _profile_form(name="Express", house_code="Express-Code",
                                       product_skus="GADGET-2"))
    _, [with_default] = place([(ours, 1)])
    _, [with_own] = place([(plain, 1), (ours, 1)])
    with app.app_context():
        assert dispatch().sent == 2
    default_order = _held_order(sim, fulfillment(app, with_default).reference)
    own_order = _held_order(sim, fulfillment(app, with_own).reference)
    assert HELD[key](default_order) == ("Ground-Code", ["WIDGET-1"])
    assert HELD[key](own_order) == ("Express-Code", ["GADGET-2", "WIDGET-1"])


def test_are_payloads_loaded_in_the_same_queries_however_many(app, account, product, place):
    from dashboard.extensions import db
    from dashboard.models import ShipProfile, SkuMapping
    from dashboard.services import dispatch
    pids = [product(f"SKU-{n}", account_id=account) for n in range(6)]
    with app.app_context():
        db.session.add(SkuMapping(house_account_id=account, product_sku="SKU-0",
                                  house_sku="H-0"))
        db.session.add(ShipProfile(house_account_id=account, name="Std", house_code="G",
                                   is_default=True))
        db.session.commit()
    fids = [place([(pid, 1), (pids[0], 2)], **CUSTOMER)[1][0] for pid in pids]

    def statements(ids):
        seen = []
        with app.app_context():
            listen = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listen)
            try:
                loaded = dispatch._payloads(ids)
            finally:
                event.remove(db.engine, "before_cursor_execute", listen)
                db.session.rollback()
        return len(seen), loaded

    few, _ = statements(fids[:1])
    many, loaded = statements(fids)
    assert few == many <= 6  # a handful of queries per chunk, never one per record
    payload = loaded[fids[0]][1]
    assert payload.ship_method == "G" and [line.sku for line in payload.lines] == ["H-0", "H-0"]
    # SKU-1 has no mapping: it goes under its own SKU, next to the mapped SKU-0
    assert [line.sku for line in loaded[fids[1]][1].lines] == ["SKU-1", "H-0"]
