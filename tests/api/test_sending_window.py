"""A broadcast's sending window through the API: set on create or update, read back, refused when it cannot be;
recipients added one by one get their zone at launch."""
from __future__ import annotations

from sqlalchemy import select

from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db


def test_a_broadcast_takes_a_window_and_its_recipients_get_their_zones_at_launch(api, templates):
    created = api.post("/broadcasts", {"template_name": "order_update", "sending_window": {"from": "09:00",
                                                                                          "to": "20:00"},
                                       "recipients": [{"phone_number": "+33142680000",
                                                       "template_parameters": ["Ana", "#1"]},
                                                      {"phone_number": "+12125550100", "attributes": {
                                                          "TimeZone": "Asia/Tokyo"},
                                                       "template_parameters": ["Bo", "#2"]}]})
    assert created.status_code == 201
    broadcast = created.get_json()["data"]
    assert broadcast["sending_window"] == {"from": "09:00", "to": "20:00"}

    campaign = db.session.get(Campaign, broadcast["id"])
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    zones = dict(db.session.execute(select(Recipient.phone, Recipient.zone)
                                    .where(Recipient.campaign_id == campaign.id)).all())
    assert zones == {"+33142680000": "Europe/Paris", "+12125550100": "Asia/Tokyo"}  # the attribute, any case


def test_a_window_that_cannot_be_is_refused_and_an_update_can_take_it_off(api, templates):
    broadcast = api.post("/broadcasts", {"template_name": "order_update",
                                         "sending_window": {"from": "20:00", "to": "08:00"}}).get_json()["data"]
    refused = api.patch(f"/broadcasts/{broadcast['id']}", {"sending_window": {"from": "08:00", "to": "08:00"}})
    error = refused.get_json()["error"]
    assert (refused.status_code, error["details"]["field"]) == (422, "window_closes")
    assert "opens and closes at 08:00" in error["message"]
    assert api.get(f"/broadcasts/{broadcast['id']}").get_json()["data"]["sending_window"] == {"from": "20:00",
                                                                                            "to": "08:00"}
    cleared = api.patch(f"/broadcasts/{broadcast['id']}", {"sending_window": None}).get_json()["data"]
    assert cleared["sending_window"] is None
