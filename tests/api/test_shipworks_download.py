"""ShipWorks never skips a record: the two races that lost orders, and a property test that
interleaves order placement, hold delays, account deactivation and reactivation and
downloads by a real ShipWorks-style client (saved ``start``, ``maxcount`` paging), over a
frozen and a moving clock, and finds every record received exactly once."""
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pullkit import API_PASSWORD, XSD

SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))
NEW_STORE = "0001-01-01T00:00:00"


class ShipWorksClient:
    """What a ShipWorks store does: ask for orders modified after its saved ``start``,
    ``maxcount`` at a time, and save the latest ``LastModified`` it received."""

    def __init__(self, app, login_id: str, maxcount: int):
        self.client = app.test_client()
        self.login_id, self.maxcount = login_id, maxcount
        self.start = NEW_STORE
        self.received: dict[int, list[str]] = {}  # order number -> status codes received

    def post(self, action: str, **fields):
        response = self.client.post("/shipworks/", data={
            "action": action, "username": self.login_id, "password": API_PASSWORD, **fields},
            environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 200
        root = etree.fromstring(response.data)
        SCHEMA.assertValid(root)
        assert root.find("Error") is None, etree.tostring(root)
        return root

    def download(self) -> None:
        count = int(self.post("getcount", start=self.start).findtext("OrderCount"))
        got = 0
        while True:
            orders = list(self.post("getorders", start=self.start,
                                    maxcount=str(self.maxcount)).iterfind("Orders/Order"))
            if not orders:
                break
            got += len(orders)
            for order in orders:
                self.received.setdefault(int(order.findtext("OrderNumber")), []).append(
                    order.findtext("StatusCode"))
            modified = [order.findtext("LastModified") for order in orders]
            assert modified == sorted(modified)
            self.start = max(modified)
        assert got >= count  # getcount never promises more than a download brings


@pytest.fixture
def house(pull_account, api_user):
    account = pull_account()
    api_user([account])
    return account


def test_an_order_placed_in_the_second_of_a_download_is_served_later(house, held, app,
                                                                     clock, fulfillment):
    """The same-second race: a download at 09:00:05.200 used to serve a record modified
    at 09:00:05.100 and save 09:00:05 as ``start``; an order placed at 09:00:05.700 then
    sat at or before ``start`` and was never served."""
    shipworks = ShipWorksClient(app, "house-east", maxcount=50)
    clock.at = datetime(2026, 11, 2, 9, 0, 5, 100000)
    [first] = held(house)
    clock.at = datetime(2026, 11, 2, 9, 0, 5, 200000)
    shipworks.download()
    assert shipworks.received == {}  # 09:00:05 is not over: nothing of it is served yet
    clock.at = datetime(2026, 11, 2, 9, 0, 5, 700000)
    [second] = held(house)
    clock.at = datetime(2026, 11, 2, 9, 0, 6, 100000)
    shipworks.download()
    assert shipworks.received == {first: ["PENDING"], second: ["PENDING"]}
    assert shipworks.start == "2026-11-02T09:00:05"
    assert fulfillment(second).status == "pending"
    clock.advance(minutes=5)
    shipworks.download()  # nothing twice
    assert shipworks.received == {first: ["PENDING"], second: ["PENDING"]}


def test_a_record_falling_due_after_start_moved_past_it_is_served(house, held, app, clock):
    """The late-visibility race: a record held 2 h kept its old modified time and was
    never served once ShipWorks' ``start`` had moved past it."""
    shipworks = ShipWorksClient(app, "house-east", maxcount=50)
    [delayed] = held(house, hold_delay_hours=2)
    clock.advance(minutes=30)
    [prompt] = held(house)
    clock.advance(minutes=1)
    shipworks.download()
    assert list(shipworks.received) == [prompt] and shipworks.start == "2026-11-02T09:30:00"
    clock.advance(hours=2)
    shipworks.download()
    assert shipworks.received == {prompt: ["PENDING"], delayed: ["PENDING"]}
    assert shipworks.start == "2026-11-02T11:00:00"  # when it fell due


def test_a_reactivated_accounts_held_records_are_served(pull_account, api_user, held, app,
                                                        clock, admin):
    """Records held while their account was off kept their old modified time, which
    ShipWorks' ``start`` had moved past by the time the account came back."""
    paused, running = pull_account(title="Paused"), pull_account(title="Running")
    api_user([paused, running])
    shipworks = ShipWorksClient(app, "house-east", maxcount=50)
    toggle = f"/admin/plugins/accounts/{paused}/toggle"
    assert admin.post(toggle, form_page="/admin/plugins/shipworks").status_code == 302
    [waiting] = held(paused)
    clock.advance(minutes=10)
    [other] = held(running)
    clock.advance(minutes=10)
    shipworks.download()
    assert shipworks.received == {other: ["PENDING"]}
    assert shipworks.start == "2026-11-02T09:10:00"
    admin.post(toggle, form_page="/admin/plugins/shipworks")  # back on at 09:20
    clock.advance(seconds=1)
    shipworks.download()
    assert shipworks.received == {other: ["PENDING"], waiting: ["PENDING"]}


def test_resent_and_reassigned_records_are_modified_when_they_become_visible(
        house, pull_account, held, app, clock, set_status, fulfillment, admin):
    """A record resent (Failed → Hold) or moved to this house's account is visible from
    that moment, so it is modified then."""
    west = pull_account(title="West")
    shipworks = ShipWorksClient(app, "house-east", maxcount=50)
    [failed] = held(house)
    [elsewhere] = held(west)
    set_status([failed], "failed")
    clock.advance(hours=1)
    shipworks.download()
    assert shipworks.received == {failed: ["FAILED"]}
    assert admin.post(f"/review/{failed}/resend",
                      form_page=f"/review/{failed}").status_code == 302
    clock.advance(seconds=1)
    shipworks.download()
    assert shipworks.received == {failed: ["FAILED", "PENDING"]}
    assert admin.post(f"/review/{elsewhere}/account", {"house_account_id": str(house)},
                      form_page=f"/review/{elsewhere}").status_code == 302
    assert fulfillment(elsewhere).house_account_id == house
    clock.advance(seconds=1)
    shipworks.download()
    assert shipworks.received[elsewhere] == ["PENDING"]


STEPS = st.lists(st.one_of(
    st.tuples(st.just("place"), st.integers(0, 1), st.sampled_from([0, 0, 0, 1]),
              st.integers(1, 3)),
    st.tuples(st.just("toggle"), st.integers(0, 1)),
    st.tuples(st.just("download"), st.sampled_from([1, 2, 3, 50])),
    st.tuples(st.just("tick"), st.sampled_from([1, 90, 400, 999, 1000, 1500, 3_600_000])),
), min_size=1, max_size=25)


@pytest.mark.parametrize("moving", [False, True], ids=["frozen clock", "moving clock"])
def test_every_record_reaches_a_shipworks_client_exactly_once(app, clock, pull_account,
                                                              api_user, product, place, admin,
                                                              fulfillment, moving):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    examples = iter(range(10_000))

    @given(steps=STEPS)
    @settings(max_examples=20, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(steps):
        n = next(examples)
        clock.at = datetime(2026, 11, 2, 9, 0, 0, 250000) + timedelta(days=n)
        accounts = [pull_account(title=f"East {n}"), pull_account(title=f"West {n}")]
        login = api_user(accounts, login_id=f"sw-{'m' if moving else 'f'}-{n}")
        products = {(a, d): product(f"P{n}-{a}-{d}-{moving}", account_id=accounts[a],
                                    hold_delay_hours=d) for a in (0, 1) for d in (0, 1)}
        shipworks = ShipWorksClient(app, login, maxcount=50)
        active = [True, True]
        placed = []
        for step in steps:
            if step[0] == "place":
                _kind, a, delay, count = step
                for _ in range(count):
                    placed.extend(place([(products[(a, delay)], 1)])[1])
            elif step[0] == "toggle":
                admin.post(f"/admin/plugins/accounts/{accounts[step[1]]}/toggle",
                           form_page="/admin/plugins/shipworks")
                active[step[1]] = not active[step[1]]
            elif step[0] == "download":
                shipworks.maxcount = step[1]
                shipworks.download()
            elif moving:
                clock.advance(milliseconds=step[1])
        for a in (0, 1):  # the end: every account on, every delay over, one more download
            if not active[a]:
                admin.post(f"/admin/plugins/accounts/{accounts[a]}/toggle",
                           form_page="/admin/plugins/shipworks")
        clock.advance(hours=2)
        shipworks.maxcount = 2
        shipworks.download()
        assert {fid: codes for fid, codes in shipworks.received.items()} == {
            fid: ["PENDING"] for fid in placed}
        with app.app_context():
            statuses = set(db.session.scalars(db.select(Fulfillment.status).where(
                Fulfillment.id.in_(placed))))
        assert statuses <= {"pending"}

    run()
