"""The status board: counts that link to the list, waiting times, stuck lists, the
14-day chart and queue health, all from a fixed number of aggregate queries."""
import re

import redis


def _board(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_counts_per_status_and_account_link_to_the_filtered_list(support, record,
                                                                 sandbox_account):
    west = sandbox_account("Sandbox West")
    record("hold"), record("hold"), record("failed"), record("delivered", account_id=west)
    page = _board(support)
    assert re.search(r'data-total="hold"><a href="/fulfillments/\?status=hold">2<', page)
    assert re.search(r'data-total="delivered"><a [^>]*>1<', page)
    assert f'href="/fulfillments/?status=delivered&amp;account={west}">1</a>' in page
    assert "Review failed (1)" in page
    listed = support.get(f"/fulfillments/?status=delivered&account={west}").get_data(
        as_text=True)
    assert listed.count("data-fulfillment=") == 1


def test_waiting_time_is_the_oldest_record_per_open_status(support, record, clock):
    record("hold")
    clock.advance(hours=5)
    record("hold"), record("pending")
    clock.advance(hours=1)
    page = _board(support)
    assert 'data-waiting="hold">6 h<' in page
    assert 'data-waiting="pending">1 h<' in page
    assert 'data-waiting="delivered">—<' in page


def test_stuck_lists_show_records_past_their_limits_and_link_to_all(support, record, clock):
    overdue = record("hold")
    record("pending")
    record("pending_shipment")
    stale = record("shipped", values={"tracking_stale": True})
    also_overdue = record("hold")
    clock.advance(hours=49)
    fresh_pending = record("pending")
    page = _board(support)

    def count(kind):
        return int(re.search(rf'data-stuck="{kind}".*?data-count="(\d+)"', page, re.S)[1])
    assert count("hold_overdue") == 2  # both Hold records were due 49 hours ago
    assert count("pending_no_tracking") == 1
    assert count("no_carrier_scan") == 0  # 49 hours is not 5 days
    assert count("tracking_stale") == 1
    assert f"#f{stale[1]}" in page and f"#f{overdue[1]}" in page and f"#f{also_overdue[1]}" in page
    assert f"#f{fresh_pending[1]}" not in page
    clock.advance(days=4)
    assert 'data-stuck="no_carrier_scan"' in (page := _board(support))
    assert count("no_carrier_scan") == 1
    listed = support.get("/fulfillments/?stuck=pending_no_tracking").get_data(as_text=True)
    assert listed.count("data-fulfillment=") == 2  # fresh_pending is now old too


def test_chart_counts_applied_moves_per_day_for_the_last_14_days(app, support, record, clock,
                                                                 failed):
    from dashboard import status as rules
    from dashboard.extensions import db
    _, early = record("delivered")          # day 0: sent, shipped, delivered
    clock.advance(days=20)
    record("pending"), record("pending")    # day 20: 2 sent
    _, rejected = failed()                  # day 20: 1 failed
    with app.app_context():  # a repeated report and a staff note move nothing
        rules.move(early, "delivered", source="carrier")
        rules.record(rejected, source="staff", detail="address fixed", status="failed")
        db.session.commit()
    page = _board(support)
    today = clock().strftime("%Y-%m-%d")
    bars = dict(((d, s), int(n)) for d, s, n in re.findall(
        r'data-day="([\d-]+)" data-series="(\w+)" data-n="(\d+)"', page))
    assert len({d for d, _ in bars}) == 14
    assert bars[(today, "pending")] == 2 and bars[(today, "failed")] == 1
    assert sum(bars[(d, "delivered")] for d, _ in bars) == 0  # day 0 is 20 days ago


def test_queue_health_shows_queued_and_failed_jobs_and_the_next_runs(app, support,
                                                                     redis_conn, clock):
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry
    from rq_scheduler import Scheduler

    from jobs.dispatch import send_now
    from jobs.schedule import register
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn)
    queue.enqueue(send_now), queue.enqueue(send_now)
    broken = Job.create(send_now, connection=redis_conn)
    broken.save()
    FailedJobRegistry(queue=queue).add(broken, ttl=600, exc_string="boom")
    register(Scheduler(queue_name=queue.name, connection=redis_conn), queue.name)
    page = _board(support)
    assert 'data-queued="2"' in page and 'data-failed="1"' in page
    assert "Send held fulfillments to their houses" in page
    assert "Ask houses for tracking" in page


def test_board_says_queue_unreachable_when_redis_is_down(app, support, tmp_path):
    app.extensions["redis"] = redis.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")
    page = _board(support)
    assert "queue unreachable" in page
    assert 'data-queue="down"' in page


def test_last_dispatch_run_and_its_result(app, support, record):
    from dashboard.services.dispatch import dispatch
    record("hold", postal_code="00000")
    with app.app_context():
        dispatch(run_key="hourly:2026-11-02T09")
    page = _board(support)
    last = re.search(r"data-last-run>(.*?)</dd>", page, re.S)[1]
    assert "(hourly)" in last and "sent 0, failed 1, deferred 0" in last


def test_board_runs_the_same_queries_for_3_or_30_records(app, support, record, statements):
    for _ in range(3):
        record("failed"), record("hold")
    with statements() as few:
        _board(support)
    for _ in range(12):
        record("pending"), record("hold")
    with statements() as many:
        _board(support)
    assert len(many) == len(few) < 20


def test_anonymous_visitor_is_sent_to_login(app):
    response = app.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_chart_keeps_past_days_in_redis_and_counts_today_live(app, support, record, clock,
                                                              redis_conn, tmp_path):
    record("pending")
    day_one = clock().strftime("%Y-%m-%d")
    clock.advance(days=1)
    record("pending"), record("pending")
    first = _board(support)
    assert f'data-day="{day_one}" data-series="pending" data-n="1"' in first
    kept = [k.decode() for k in redis_conn.keys("*board-chart*")]
    assert len(kept) == 13 and any(k.endswith(day_one) for k in kept)
    assert redis_conn.get(next(k for k in kept if k.endswith(day_one))) == b'{"pending": 1}'
    record("pending")  # today is counted live on every view
    today = clock().strftime("%Y-%m-%d")
    assert f'data-day="{today}" data-series="pending" data-n="3"' in _board(support)
    app.extensions["redis"] = redis.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")
    down = _board(support)  # without Redis every day is counted from the events
    assert f'data-day="{day_one}" data-series="pending" data-n="1"' in down
    assert f'data-day="{today}" data-series="pending" data-n="3"' in down


def test_a_stuck_count_stops_at_its_cap(support, record, clock, monkeypatch):
    """Past the cap the board says "N+" and its query counts no further, so a large
    backlog does not make the board slower."""
    from dashboard.support import board
    monkeypatch.setattr(board, "STUCK_COUNT_CAP", 2)
    for _ in range(4):
        record("hold")
    record("pending")
    clock.advance(hours=49)
    page = _board(support)
    cards = {key: card for key, card in re.findall(
        r'data-stuck="(\w+)"(.*?)(?=data-stuck=|$)', page, re.S)}
    assert 'data-count="3"' in cards["hold_overdue"] and ">2+</a>" in cards["hold_overdue"]
    assert 'data-count="1"' in cards["pending_no_tracking"]
    assert ">1</a>" in cards["pending_no_tracking"]
