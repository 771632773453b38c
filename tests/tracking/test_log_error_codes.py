"""The log's error filter lists a campaign's error codes from its counters, as counting its failed rows would:
after sends refused and retried against the real sandbox, and Meta's failed statuses early, late, duplicated and
replacing a refused attempt's error."""
from __future__ import annotations

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import delete

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - shared fixtures
from tests.campaigns.sending import launch, rows_by_phone, send_all
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, configure_webhook
from webapp import create_app
from webapp.campaigns.lifecycle import FAILED_WITH, add_counts, failures
from webapp.campaigns.models import CampaignCounter, Recipient
from webapp.extensions import db
from webapp.tracking.log import error_codes

# Numbers the sandbox's profile lets through (it fails those ending in 00-04 by webhook: webapp/sandbox/profile.py).
PEOPLE = [(f"+155509610{i:02d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(10, 20)]
UNDELIVERABLE = (131026, "Message undeliverable", "Unable to deliver the message.")
LATE = (131047, "Re-engagement message", "More than 24 hours have passed.")
CAPPED = (131049, "Not delivered to maintain ecosystem engagement", "")


def _status(row, name, minutes, error=None, wamid=None):
    return meta.status(wamid or row.wamid, name, T0 + timedelta(minutes=minutes), row.phone.lstrip("+"),
                       row_id=row.id, error=error)


def _scanned(campaign_id):
    """The list as the rows say it: the counters by code taken away, so the log counts the failed rows."""
    db.session.execute(delete(CampaignCounter).where(CampaignCounter.campaign_id == campaign_id,
                                                     CampaignCounter.name.startswith(FAILED_WITH)))
    db.session.commit()
    assert failures(db.session, campaign_id) is None  # they no longer account for the failures: the rows are read
    return error_codes(db.session, campaign_id)


def test_the_error_filter_lists_the_codes_the_failed_rows_have_now_from_the_counters(app, sandbox, sandbox_sender,
                                                                                    staff_client):
    app.config["RETRY_BASE_SECONDS"] = 0.1
    sandbox.fault(status=500, count=2)                 # 131000: two rows wait with its note, then are sent
    sandbox.fault(status=400, code=131026, count=2)   # two rows refused for good, with 131026
    campaign = launch(sandbox_sender, PEOPLE)
    for _ in range(5):
        campaign = send_all(campaign.id)
        if campaign.status != "sending":
            break
    configure_webhook()
    rows = sorted(rows_by_phone(campaign.id).values(), key=lambda row: row.id)
    refused = [row for row in rows if row.status == "failed"]
    went = [row for row in rows if row.status != "failed"]
    assert [row.error_code for row in refused] == [131026, 131026]
    assert {row.error_code for row in went} == {None}  # the retried rows' notes went with their sends
    assert [code for code, _, _ in error_codes(db.session, campaign.id)] == [131026]

    meta.post(staff_client, meta.statuses(
        _status(went[0], "failed", 1, CAPPED),
        _status(went[1], "delivered", 1), _status(went[1], "failed", 2, LATE),     # a late failure
        _status(went[2], "failed", 1, LATE), _status(went[2], "failed", 2, UNDELIVERABLE),  # a duplicate: the first stays
        _status(went[3], "failed", 1),                                            # no code: not a choice
        _status(went[4], "read", 1),
        # the refused attempts' messages had gone after all (their answers lost): Meta's word replaces 131026
        _status(refused[0], "failed", 3, LATE, wamid="wamid.LOST0"),
        _status(refused[1], "failed", 3, CAPPED, wamid="wamid.LOST1")))

    kept = error_codes(db.session, campaign.id)
    assert failures(db.session, campaign.id) == {131047: 3, 131049: 2}  # 131026's count went back to 0: not listed
    assert kept == [(131047, "Re-engagement message", 3), (131049, CAPPED[1], 2)]
    assert kept == _scanned(campaign.id)
    page = staff_client.get(f"/campaigns/{campaign.id}/log").get_data(as_text=True)
    assert "131047 Re-engagement message (3)" in page and "131026" not in page.split('name="error"')[1].split("</select>")[0]


def test_the_upgrade_counts_by_code_the_failures_of_campaigns_sent_before_it(tmp_path, redis_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
                      "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret-key",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SANDBOX_ENABLED": False})
    with app.app_context():
        upgrade(revision="c5e1a7d3f9b8")  # the release before: failures counted, not by code
        campaign = factories.campaign(status="sent", phones=[f"+1555000{i:04d}" for i in range(5)])
        codes = [131026, 131026, 131047, None]
        for row, code in zip(db.session.query(Recipient).order_by(Recipient.id), codes):
            row.status, row.error_code = "failed", code
        add_counts(db.session, campaign.id, {"pending": -len(codes), "failed": len(codes)})
        db.session.commit()
        assert failures(db.session, campaign.id) is None  # the log would count the rows

        upgrade()
        assert failures(db.session, campaign.id) == {131026: 2, 131047: 1}
        assert error_codes(db.session, campaign.id) == _scanned(campaign.id)
        db.session.remove()
        downgrade(revision="c5e1a7d3f9b8")
        db.session.remove()
        db.engine.dispose()
