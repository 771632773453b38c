"""The click redirect's front door (webapp/tracking/front.py) answers a good code as Flask's view does, and only queues
the click; the worker's job (jobs/clicks.py) counts each queued click once, however often it runs."""
from __future__ import annotations

import os
import threading

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from jobs.clicks import count as count_queued_clicks
from tests.tracking.test_clicks import PHONE_BROWSER, SHOP, _campaign_with_links
from webapp import group_commit
from webapp.campaigns.daily import CampaignDay
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.links import code_for
from webapp.campaigns.models import LinkClick, Recipient
from webapp.events.models import EventDelivery, EventEndpoint
from webapp.extensions import db
from webapp.tracking import click_writer
from webapp.tracking.front import RedirectFront
from webapp.tracking.models import QueuedClick

BROWSER = {"User-Agent": PHONE_BROWSER}


def _queued() -> int:
    return db.session.scalar(select(func.count()).select_from(QueuedClick))


def test_the_front_door_answers_as_the_apps_view_does_and_queues_only_a_persons_click(client, app):
    campaign, rows, body, button = _campaign_with_links()
    db.session.commit()
    flask_view = Client(app.wsgi_app.app)  # the app behind the front door, as it answers what it is handed
    for code in (code_for(body.id, rows[0].id), code_for(button.id, rows[1].id) + "/"):
        for method in ("GET", "HEAD"):
            front = client.open(f"/r/{code}", method=method, headers=BROWSER)
            view = flask_view.open(f"/r/{code}", method=method, headers=BROWSER)
            assert "Vary" not in front.headers  # answered in front: it reads no session
            assert (front.status, front.get_data()) == (view.status, view.get_data())
            assert sorted(front.headers.items()) == sorted((k, v) for k, v in view.headers.items() if k != "Vary")
    assert front.location == "https://shop.example.com/cart/1"  # the recipient's own address
    assert _queued() == 2 * 2  # a GET by each side for each code; HEAD requests are no clicks
    assert db.session.scalar(select(func.count()).select_from(LinkClick)) == 0  # counted by the job, not here

    bad = client.get(f"/r/{code_for(body.id, rows[0].id)[:-1]}0", headers=BROWSER)  # a forged signature
    assert bad.status_code == 404 and "This link is not valid" in bad.get_data(as_text=True)
    assert _queued() == 4


def test_a_queued_click_is_counted_once_however_often_the_job_runs_and_first_clicks_stay_first(client, app):
    db.session.add(EventEndpoint(url="https://hooks.example.com/clicks", secret="s", event_types=["link.clicked"]))
    campaign, rows, body, button = _campaign_with_links()
    first_code, other_code = code_for(body.id, rows[0].id), code_for(button.id, rows[0].id)
    client.get(f"/r/{first_code}", headers=BROWSER)
    client.get(f"/r/{other_code}", headers=BROWSER)

    assert (count_queued_clicks(), count_queued_clicks()) == (2, 0)  # the second run finds nothing left
    client.get(f"/r/{first_code}", headers=BROWSER)  # a later click, in a later batch
    assert count_queued_clicks() == 1 and _queued() == 0

    clicks = {click.link_id: click.clicks for click in db.session.scalars(select(LinkClick))}
    assert clicks == {body.id: 2, button.id: 1}
    recipient = db.session.get(Recipient, rows[0].id)
    db.session.refresh(recipient)
    assert recipient.clicks == 3 and recipient.clicked_at is not None
    assert counts(db.session, campaign.id)["clicked"] == 1 == recount(db.session, campaign.id)["clicked"]
    assert db.session.scalar(select(func.sum(CampaignDay.clicked))) == 1
    events = [delivery.payload["data"] for delivery in db.session.scalars(select(EventDelivery).order_by(EventDelivery.id))]
    assert [(event["link"], event["first"]) for event in events] == [("body:2", True), ("button:0", False),
                                                                     ("body:2", False)]


def test_a_click_queued_before_its_campaign_was_deleted_counts_for_nothing_and_leaves_the_queue(client, app):
    campaign, rows, body, _ = _campaign_with_links()
    assert client.get(f"/r/{code_for(body.id, rows[0].id)}", headers=BROWSER).location == SHOP
    db.session.delete(db.session.get(type(campaign), campaign.id))
    db.session.commit()

    assert count_queued_clicks() == 1
    assert _queued() == 0 and db.session.scalar(select(func.count()).select_from(LinkClick)) == 0


# Clicks written a batch at a time (webapp/tracking/click_writer.py): each request waits for its click's commit.

def _front(app) -> RedirectFront:
    front = app.wsgi_app
    while not isinstance(front, RedirectFront):
        front = front.app
    return front


def _clicks_made_while_one_is_written(app, monkeypatch, codes: list[str], failing: tuple[int, ...] = ()):
    """One click, then one per code from as many threads while the first click's INSERT is held: they queue behind
    it, so the batches do not depend on the machine's speed. The batches numbered in `failing` (from 1) raise, as a
    database error would. The answers (the first click's first) and each batch's size."""
    writer = _front(app)._clicks()
    first_insert, all_handed, handed, batches = threading.Event(), threading.Event(), [], []
    submit, execute = writer.submit, writer.execute

    def counted_submit(click):
        submit(click)
        handed.append(click)
        if len(handed) == 1 + len(codes):
            all_handed.set()

    def held_execute(statement, parameters, fetch=False):
        if statement.startswith("INSERT INTO queued_clicks"):
            first_insert.set()
            assert all_handed.wait(10)
            batches.append(len(parameters) // 3)
            if len(batches) in failing:
                raise OperationalError(statement, parameters, Exception("disk I/O error"))
        return execute(statement, parameters, fetch)

    monkeypatch.setattr(writer, "submit", counted_submit)
    monkeypatch.setattr(writer, "execute", held_execute)
    answers: dict[int, object] = {}

    def click(number: int, code: str) -> None:
        answers[number] = Client(app).get(f"/r/{code}", headers=BROWSER)

    first = threading.Thread(target=click, args=(0, codes[0]))
    first.start()
    assert first_insert.wait(10)
    others = [threading.Thread(target=click, args=(number, code)) for number, code in enumerate(codes, start=1)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(30)
    return [answers[number] for number in range(len(codes) + 1)], batches


def test_concurrent_clicks_are_written_a_batch_at_a_time_and_each_is_counted_once(app, monkeypatch):
    campaign, rows, body, button = _campaign_with_links()
    codes = [code_for(link.id, row.id) for link in (body, button) for row in rows] * 6  # 24, first and repeat clicks

    answers, batches = _clicks_made_while_one_is_written(app, monkeypatch, codes)

    assert [(answer.status_code, "Vary" in answer.headers) for answer in answers] == [(302, False)] * 25
    assert batches == [1, 24]  # two statements for 25 clicks: the 24 made meanwhile in one
    assert _queued() == 25 and count_queued_clicks() == 25
    clicks = {(click.link_id, click.recipient_id): click.clicks for click in db.session.scalars(select(LinkClick))}
    assert clicks == {(body.id, rows[0].id): 7, (body.id, rows[1].id): 6, (button.id, rows[0].id): 6,
                      (button.id, rows[1].id): 6}
    assert counts(db.session, campaign.id)["clicked"] == 2 == recount(db.session, campaign.id)["clicked"]


def test_the_requests_of_a_batch_that_was_not_written_are_answered_by_flasks_view_which_records_each_click(
        app, monkeypatch):
    campaign, rows, body, _ = _campaign_with_links()
    codes = [code_for(body.id, rows[0].id)] * 8

    answers, batches = _clicks_made_while_one_is_written(app, monkeypatch, [code_for(body.id, rows[1].id)] + codes,
                                                         failing=(2,))

    assert batches == [1, 9]
    assert all(answer.status_code == 302 and answer.location == SHOP for answer in answers)
    assert ["Vary" in answer.headers for answer in answers] == [False] + [True] * 9  # Flask's view: Vary: Cookie
    assert count_queued_clicks() == 10  # none lost, none twice
    assert {click.recipient_id: click.clicks for click in db.session.scalars(select(LinkClick))} == {
        rows[0].id: 8, rows[1].id: 2}


def test_a_click_the_writer_has_not_taken_in_time_goes_to_flasks_view_and_is_not_written_twice(app, monkeypatch):
    campaign, rows, body, _ = _campaign_with_links()
    writer = _front(app)._clicks()
    first_insert, go_on, execute = threading.Event(), threading.Event(), writer.execute

    def held_execute(statement, parameters, fetch=False):
        first_insert.set()
        assert go_on.wait(10)
        return execute(statement, parameters, fetch)

    monkeypatch.setattr(writer, "execute", held_execute)
    monkeypatch.setattr(click_writer, "WAIT", 0.05)
    first = threading.Thread(target=Client(app).get, args=(f"/r/{code_for(body.id, rows[0].id)}",),
                             kwargs={"headers": BROWSER})
    first.start()
    assert first_insert.wait(10)
    late = Client(app).get(f"/r/{code_for(body.id, rows[1].id)}", headers=BROWSER)  # waits while the writer is held
    go_on.set()
    first.join(10)
    click_writer.stop(app)  # the withdrawn click was still queued: the writer passes it by

    assert late.status_code == 302 and "Vary" in late.headers  # Flask's view answered, and wrote the click
    assert count_queued_clicks() == 2
    assert {click.recipient_id: click.clicks for click in db.session.scalars(select(LinkClick))} == {
        rows[0].id: 1, rows[1].id: 1}


def test_the_click_writer_ends_when_stopped_or_idle_and_a_forked_process_writes_with_its_own(app, monkeypatch):
    campaign, rows, body, _ = _campaign_with_links()
    code = code_for(body.id, rows[0].id)
    web = Client(app)
    assert web.get(f"/r/{code}", headers=BROWSER).status_code == 302
    writer = app.extensions[click_writer.WRITER]
    assert writer.thread is not None and writer.pid == os.getpid()
    click_writer.stop(app)  # as the tests' teardown does before it empties the tables
    assert writer.thread is None and _queued() == 1

    pid = os.fork()  # as gunicorn makes its workers
    if pid == 0:
        ok = False
        try:
            answer = Client(app).get(f"/r/{code}", headers=BROWSER)
            own = app.extensions[click_writer.WRITER]
            ok = answer.status_code == 302 and "Vary" not in answer.headers and own is not writer
            ok = ok and own.pid == os.getpid() and own.thread is not None
            click_writer.stop(app)
        finally:
            os._exit(0 if ok else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert _queued() == 2

    monkeypatch.setattr(group_commit, "IDLE_EXIT", 0.01)
    assert web.get(f"/r/{code}", headers=BROWSER).status_code == 302  # this process's writer starts again
    thread = writer.thread
    assert app.extensions[click_writer.WRITER] is writer and thread is not None
    thread.join(10)  # and ends by itself once idle
    assert not thread.is_alive() and writer.thread is None
    assert count_queued_clicks() == 3
