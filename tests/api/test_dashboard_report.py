"""GET /dashboard/report: the Reports page's figures as JSON, equal to the page's."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, configure_webhook, wa_id, wamid
from webapp.extensions import db

UNDELIVERABLE = (131026, "Message undeliverable", "Unable to deliver message.")


def test_the_dashboard_report_gives_the_pages_figures_and_refuses_a_range_it_cannot_draw(api, admin_client):
    configure_webhook(timezone="Europe/Madrid")
    campaign, rows = accepted_campaign(3)
    for row, name in zip(rows, ("read", "delivered", "failed")):
        meta.post(admin_client, meta.statuses(meta.status(
            wamid(row), name, T0 + timedelta(minutes=1), wa_id(row), row.id,
            error=UNDELIVERABLE if name == "failed" else None)))
    db.session.commit()

    answer = api.get("/dashboard/report", **{"from": "2026-11-01", "to": "2026-11-30", "group": "week"})
    assert answer.status_code == 200
    found = answer.get_json()["data"]
    assert (found["from"], found["to"], found["group"], found["zone"]) == ("2026-11-01", "2026-11-30", "week",
                                                                          "Europe/Madrid")
    assert {k: found["totals"][k] for k in ("sent", "delivered", "read", "failed")} == \
        {"sent": 2, "delivered": 2, "read": 1, "failed": 1}
    assert found["failures"] == [{"code": 131026, "title": "Message undeliverable", "failed": 1}]
    assert found["hours"][13] == {"hour": 13, "sent": 2, "read": 1, "replied": 0, "read_rate": 50.0,
                                  "reply_rate": 0.0}  # 12:00 UTC is 13:00 in Madrid

    page = admin_client.get("/reports/messages.csv?days=custom&from=2026-11-01&to=2026-11-30&group=week")
    table = list(csv.reader(io.StringIO(page.text)))[1:]
    assert [[row[0]] + [int(cell) for cell in row[1:]] for row in table] == [
        [label, *(week[name] for name in ("sent", "delivered", "read", "replied", "clicked"))]
        for label, week in zip((row[0] for row in table), found["trend"])]
    assert [week["period"] for week in found["trend"]][:2] == ["2026-10-26", "2026-11-02"]

    refused = api.get("/dashboard/report", **{"from": "2026-11-30", "to": "2026-11-01"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"] == [
        {"field": "from", "message": "The range starts (30 Nov 2026) after it ends (01 Nov 2026): swap the dates."}]
