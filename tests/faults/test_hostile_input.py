"""Hostile input against every dashboard route: CSRF-less posts, the wrong role, no login,
injection in every form field, oversized bodies. 0 server errors, 0 state changes from
invalid input, 0 credentials leaked."""
import io
import re

import pytest
from faults.figures import report
from sqlalchemy import func, select
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
    assert refused > 30  # the sweep really covers the routes (39 when written)
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
    assert checked > 30  # the sweep really covers the routes (40 when written)
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


#: query arguments with a meaning to Flask's url_for, line breaks and NUL: each page must
#: treat them as plain data (before, ``/review/?_method=DELETE`` was a server error)
QUERY_PAYLOADS = ({"_method": "DELETE"}, {"_external": "1", "_scheme": "javascript"},
                  {"_anchor": "x", "after": "\r\nSet-Cookie: a=b"}, {"q": "\x00"},
                  {"next": "/\r\nLocation: //evil.example"}, {"status": ["a", "b"]})


def test_special_query_arguments_on_every_page(app, admin, world):
    before = _state(app)
    checked = 0
    for rule in _routes(app, "GET"):
        if rule.endpoint.split(".")[0] in SELF_AUTHENTICATED | {"healthz"}:
            continue
        path = _fill(rule, world)
        for args in QUERY_PAYLOADS:
            response = admin.client.get(path, query_string=args)
            assert response.status_code < 500, (rule.rule, args)
            location = response.headers.get("Location", "")
            assert "\n" not in location and "evil.example" not in location, (rule.rule, args)
            response.close()  # a streamed CSV export is finished, not left dangling
            checked += 1
    assert checked > 150 and _state(app) == before
    report("url_for and line-break query arguments", "6 hostile query strings on every "
           "dashboard GET route", records=checked, **{"5xx": 0})


def test_line_breaks_in_the_login_redirect_are_dropped(app, make_user):
    from testkit import PASSWORD, Browserless
    make_user("ada@example.com")
    for target in ("/orders/\r\nSet-Cookie: x=1", "/\\evil.example", "/%0d%0aX: y"):
        c = Browserless(app.test_client())
        token = c.csrf("/login")
        response = c.client.post("/login", query_string={"next": target}, data={
            "email": "ada@example.com", "password": PASSWORD, "csrf_token": token})
        location = response.headers["Location"]
        assert response.status_code == 302 and location.startswith("/"), target
        assert not any(c in location for c in "\r\n\\") and "evil" not in location, target


def test_nul_bytes_in_every_upload_are_refused(app, admin, world):
    """Every form with a file input gets a file holding NUL bytes (PostgreSQL cannot store
    one): a 400 naming the problem, and nothing stored."""
    before = _state(app)
    uploads = 0
    for rule in _routes(app, "GET"):
        if rule.endpoint.split(".")[0] in SELF_AUTHENTICATED | {"auth"} or rule.arguments:
            continue
        page = admin.get(rule.rule)
        if page.status_code != 200:
            continue
        names = re.findall(r'<input[^>]*type="file"[^>]*name="([^"]+)"|'
                           r'<input[^>]*name="([^"]+)"[^>]*type="file"',
                           page.get_data(as_text=True))
        for name in {a or b for a, b in names}:
            content = b"orderId,fulfillmentId,tracking\n1,1,1Z\x00999\n"
            response = admin.post(rule.rule, {name: (io.BytesIO(content), "t.csv")},
                                  form_page=rule.rule, content_type="multipart/form-data")
            assert response.status_code == 400, (rule.rule, name)
            assert "NUL characters" in response.get_data(as_text=True)
            uploads += 1
    assert uploads >= 1 and _state(app) == before
    report("NUL bytes in uploads", "every file input of the dashboard", records=uploads,
           refused=uploads, **{"5xx": 0})


def test_hostile_values_in_every_api_parameter(app, world):
    """Authenticated calls (a real API user) with each parameter of the OpenAPI description
    set to an over-long, NUL, list or injection value: always the 200 ERROR envelope."""
    from werkzeug.security import generate_password_hash

    from dashboard import credentials
    from dashboard.api.openapi import ENDPOINTS
    from dashboard.extensions import db
    from dashboard.models import ApiUser, HouseAccount
    with app.app_context():
        pull = HouseAccount(adapter_key="shipworks", title="ShipWorks",
                            credentials_encrypted=credentials.encrypt({}))
        db.session.add(ApiUser(login_id="hostile", password_hash=generate_password_hash(
            "hostile-pw-123"), permissions=",".join(ApiUser.PERMISSIONS),
            ip_allowlist="127.0.0.1", accounts=[pull]))
        db.session.commit()
    before = _state(app)
    client = app.test_client()
    calls = 0
    for endpoint in ENDPOINTS:
        for name in (p["name"] for p in endpoint.parameters):
            if name in ("loginId", "password"):
                continue
            for value in ("9" * 300, "a\x00b", ["1", "2"], "' OR 1=1 --", "-1", "1e400"):
                response = client.post(endpoint.path, data={
                    "loginId": "hostile", "password": "hostile-pw-123", name: value})
                assert response.status_code == 200, (endpoint.path, name, value)
                assert response.json["result"] in ("ERROR", "SUCCESS")
                calls += 1
    assert calls > 100 and _state(app) == before
    report("hostile API parameters", "6 values in every parameter of every endpoint",
           records=calls, **{"5xx": 0})

