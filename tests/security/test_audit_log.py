"""Admin › Audit log: who changed what, when and from where, for every admin change;
never a credential's value; admins only; filterable."""
from sqlalchemy import select
from testkit import SANDBOX_KEY

NEW_KEY = "sbx_feedfacecafe0002"


def _events(app):
    from dashboard.extensions import db
    from dashboard.services.audit import AuditEvent
    with app.app_context():
        return [(e.actor, e.address, e.subject, e.action, e.detail)
                for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _activate(admin):
    return admin.post("/admin/plugins/sandbox/activate", {
        "title": "East", "cred_api_key": SANDBOX_KEY, "cred_warehouse": "east",
        "cred_ship_after": "60", "cred_scan_after": "60", "cred_deliver_after": "180"})


def _account_id(app):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        return db.session.scalar(select(HouseAccount.id))


def test_a_credential_change_is_logged_without_the_secret(app, admin):
    assert _activate(admin).status_code == 302
    account_id = _account_id(app)
    response = admin.post(f"/admin/plugins/accounts/{account_id}/edit", {
        "title": "East", "cred_api_key": NEW_KEY, "cred_warehouse": "east",
        "cred_ship_after": "60", "cred_scan_after": "60", "cred_deliver_after": "180"})
    assert response.status_code == 302
    created, edited = _events(app)
    assert created[:4] == ("admin@example.com", "127.0.0.1", "house_account", "created")
    assert edited[2:4] == ("house_account", "edited")
    assert "api_key" in edited[4] and "values are not logged" in edited[4]
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "credential values are not logged" in page and "api_key" in page
    assert NEW_KEY not in page and SANDBOX_KEY not in page
    assert all(NEW_KEY not in e[4] and SANDBOX_KEY not in e[4] for e in _events(app))


def test_an_api_user_creation_is_logged(app, admin):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        pull = HouseAccount(adapter_key="shipworks", title="ShipWorks East",
                            credentials_encrypted=credentials.encrypt({}))
        db.session.add(pull)
        db.session.commit()
        account = pull.id
    response = admin.post("/admin/api-users/new", {
        "login_id": "shipworks-east", "label": "", "accounts": [account],
        "permissions": ["fulfillment_query"], "ip_allowlist": "203.0.113.7"})
    assert response.status_code == 200
    [event] = _events(app)
    assert event[2:4] == ("api_user", "created")
    assert "shipworks-east" in event[4] and "203.0.113.7" in event[4]
    page = admin.get("/admin/audit/?subject=api_user").get_data(as_text=True)
    assert "shipworks-east" in page and "created" in page
    assert "No admin changes recorded for this filter" in admin.get(
        "/admin/audit/?subject=house_account").get_data(as_text=True)
    assert "shipworks-east" in admin.get("/admin/audit/?actor=admin@example.com").get_data(
        as_text=True)


def test_every_kind_of_admin_change_is_recorded(app, admin, sandbox_account, product, place):
    account_id = sandbox_account()
    other = sandbox_account("West")
    pid = product("SHOE-1")
    admin.post(f"/admin/plugins/accounts/{account_id}/toggle", {},
               form_page="/admin/plugins/sandbox")
    admin.post(f"/admin/plugins/accounts/{account_id}/toggle", {},
               form_page="/admin/plugins/sandbox")
    admin.post(f"/admin/plugins/accounts/{account_id}/assign-all", {})
    admin.post(f"/products/{pid}/edit", {"name": "Shoe", "sku": "SHOE-1", "price": "10",
                                         "shippable": "y", "house_account_id": other,
                                         "hold_delay_hours": "0"})
    _order, [fid] = place([(pid, 1)])
    admin.post(f"/review/{fid}/cancel", {})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "sam@example.com"]).exit_code == 0
    assert runner.invoke(args=["users", "role", "sam@example.com", "admin"]).exit_code == 0
    spare = sandbox_account("Spare")
    admin.post(f"/admin/plugins/accounts/{spare}/delete", {})
    actions = [(e[0], e[2], e[3]) for e in _events(app)]
    assert actions == [
        ("admin@example.com", "house_account", "deactivated"),
        ("admin@example.com", "house_account", "activated"),
        ("admin@example.com", "product", "assigned to all"),
        ("admin@example.com", "product", "house assignment changed"),
        ("admin@example.com", "fulfillment", "cancelled"),
        ("cli", "user", "created"),
        ("cli", "user", "role changed"),
        ("admin@example.com", "house_account", "deleted"),
    ], actions


def test_a_refused_change_records_nothing(app, admin, sandbox_account):
    account_id = sandbox_account()
    response = admin.post(f"/admin/plugins/accounts/{account_id}/edit", {
        "title": "", "cred_api_key": "", "cred_warehouse": "east"})
    assert response.status_code == 400
    assert _events(app) == []


def test_the_audit_log_is_for_admins_only(app, support, admin):
    assert support.get("/admin/audit/").status_code == 403
    assert admin.get("/admin/audit/?subject=nonsense&actor=x&after=abc").status_code == 200
