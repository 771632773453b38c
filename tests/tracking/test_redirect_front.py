"""The click redirect's front door (webapp/tracking/front.py) answers a good code as Flask's view does, and only queues
the click; the worker's job (jobs/clicks.py) counts each queued click once, however often it runs."""
from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.test import Client

from jobs.clicks import count as count_queued_clicks
from tests.tracking.test_clicks import PHONE_BROWSER, SHOP, _campaign_with_links
from webapp.campaigns.daily import CampaignDay
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.links import code_for
from webapp.campaigns.models import LinkClick, Recipient
from webapp.events.models import EventDelivery, EventEndpoint
from webapp.extensions import db
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
