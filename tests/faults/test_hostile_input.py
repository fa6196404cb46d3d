"""Hostile input against every dashboard route: CSRF-less posts, the wrong role, no login,
injection in every form field, oversized bodies. 0 server errors, 0 state changes from
invalid input, 0 credentials leaked."""
import re

import pytest
from sqlalchemy import func, select

from faults.figures import report
from testkit import SANDBOX_KEY

#: blueprints whose pages are for admins only
ADMIN_BLUEPRINTS = {"plugins", "carriers", "api_users", "mappings"}
#: blueprints that authenticate each call themselves (no dashboard login, no CSRF)
SELF_AUTHENTICATED = {"api", "webhooks", "shipworks"}
PAYLOADS = ("' OR '1'='1' --", "<script>alert('x')</script>", "{{7*7}}", "\x00", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "A" * 5000, "../../etc/passwd", "1; DROP TABLE fulfillment")


@pytest.fixture
def world(app, sandbox_account, product, place):
    """One of everything, so that every route with an id has something to find."""
    account = sandbox_account()
    pid = product("HOSTILE-1", account_id=account)
    order_id, [fid] = place([(pid, 1)])
    return {"account": account, "product": pid, "order": order_id, "fulfillment": fid}


def _fill(rule, world):
    values = {}
    for arg in rule.arguments:
        if arg == "key":
            values[arg] = "sandbox"
        elif arg.endswith("token"):
            values[arg] = "not-a-real-token"
        elif arg in ("import_id", "batch_id"):
            values[arg] = 1
        else:
            values[arg] = world.get(arg.replace("_id", ""), 1)
    return rule.build(values, append_unknown=False)[1]


def _routes(app, method):
    for rule in app.url_map.iter_rules():
        if method in rule.methods and rule.endpoint != "static":
            yield rule


def _state(app):
    """Row counts of every table and a digest of the fulfillments: what "changed" means."""
    from dashboard.extensions import db
    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t))
                  for t in db.metadata.sorted_tables}
        rows = db.session.execute(select(db.metadata.tables["fulfillment"].c.status,
                                         db.metadata.tables["fulfillment"].c.updated_at)).all()
        products = db.session.execute(select(db.metadata.tables["product"])).all()
    return counts, sorted(map(tuple, rows)), sorted(map(tuple, products))


def test_posts_without_csrf_token_change_nothing(app, admin, world):
    before = _state(app)
    refused = 0
    for rule in _routes(app, "POST"):
        if rule.endpoint.split(".")[0] in SELF_AUTHENTICATED or rule.endpoint == "auth.login":
            continue
        response = admin.client.post(_fill(rule, world), data={"title": "x", "name": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        refused += 1
    assert _state(app) == before
    report("POST without CSRF token", "every dashboard POST route, as an admin",
           records=refused, refused=refused, **{"5xx": 0})


def test_support_user_is_refused_every_admin_page(app, support, world):
    checked = 0
    for method in ("GET", "POST"):
        for rule in _routes(app, method):
            if rule.endpoint.split(".")[0] not in ADMIN_BLUEPRINTS:
                continue
            path = _fill(rule, world)
            response = (support.get(path) if method == "GET" else
                        support.client.post(path, data={"csrf_token": support.csrf("/")}))
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            assert SANDBOX_KEY not in response.get_data(as_text=True)
            checked += 1
    assert checked > 10
    report("support user on admin pages", "every admin route, GET and POST", records=checked,
           refused=checked, **{"5xx": 0})


def test_anonymous_visitor_sees_only_the_login_page(app, world):
    client = app.test_client()
    checked = 0
    for rule in _routes(app, "GET"):
        if rule.endpoint.split(".")[0] in SELF_AUTHENTICATED | {"auth", "healthz", "health"}:
            continue
        response = client.get(_fill(rule, world))
        assert response.status_code == 302 and "/login" in response.headers["Location"], \
            rule.rule
        checked += 1
    report("no login", "every dashboard GET route", records=checked, refused=checked,
           **{"5xx": 0})


def _form_fields(page: str):
    """The named fields of the page's own POST form (the one posting back to the page,
    with the most fields): inputs, selects and textareas; values come from the payloads."""
    best = []
    for attrs, body in re.findall(r'<form([^>]*method="post"[^>]*)>(.*?)</form>', page, re.S):
        if "action=" in attrs:
            continue
        names = re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', body)
        names = [n for n in dict.fromkeys(names) if n != "csrf_token"]
        if len(names) > len(best):
            best = names
    return best


def test_injection_in_every_form_field(app, admin, world):
    """Every form, every field, every payload: no server error, nothing rendered raw."""
    submitted = 0
    for rule in _routes(app, "GET"):
        if rule.endpoint.split(".")[0] in SELF_AUTHENTICATED | {"auth"} or rule.arguments - {
                "key", "account_id", "product_id", "order_id", "fulfillment_id"}:
            continue
        path = _fill(rule, world)
        page = admin.get(path)
        if page.status_code != 200:
            continue
        fields = _form_fields(page.get_data(as_text=True))
        for payload in PAYLOADS:
            if not fields:
                break
            response = admin.post(path, {name: payload for name in fields}, form_page=path)
            submitted += 1
            body = response.get_data(as_text=True)
            assert response.status_code < 500, (rule.rule, payload[:20])
            assert "<script>alert('x')</script>" not in body, rule.rule
    for path in ("/", "/fulfillments/", "/products/", f"/orders/{world['order']}",
                 "/admin/plugins/sandbox"):
        body = admin.get(path).get_data(as_text=True)
        assert "<script>alert('x')</script>" not in body
        assert SANDBOX_KEY not in body
    from dashboard.extensions import db
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(
            db.metadata.tables["fulfillment"])) >= 1  # "DROP TABLE" did nothing
    assert submitted > 20
    report("SQL/HTML/template injection", "8 payloads in every field of every form",
           records=submitted, **{"5xx": 0})


def test_oversized_body_is_refused(app, admin):
    response = admin.client.post("/products/new", data={"name": "x" * (6 * 1024 * 1024)})
    assert response.status_code == 413
