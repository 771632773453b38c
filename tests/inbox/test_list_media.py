"""A list's free-form file goes to Meta once: uploaded by one job per number, then every member inside their window
is sent its media id (counted by the real sandbox); an upload Meta refuses for good fails the answers with why."""
from __future__ import annotations

from io import BytesIO

from rq import SimpleWorker
from sqlalchemy import select

from tests import factories
from tests.conftest import post
from tests.inbox.test_api import ANA, BEN, CID, answers, wrote
from webapp.extensions import db
from webapp.queues import queue, redis_client
from webapp.inbox.models import Answer

PDF = b"%PDF-1.4\n% our spring prices\n" + b"0" * 2000


def _send_the_prices_to(staff_client, numbers: list[str]) -> list[Answer]:
    customers = factories.contact_list("Customers", [f"+{n}" for n in numbers])
    db.session.commit()
    response = post(staff_client, f"/inbox/lists/{customers.id}/message",
                    {"text": "Our spring prices", "file": (BytesIO(PDF), "prices.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    SimpleWorker([queue("dispatch")], connection=redis_client()).work(burst=True)
    return answers()


def test_a_list_pdf_is_uploaded_once_and_every_member_gets_its_media_id(staff_client, sandbox, sandbox_sender,
                                                                         webhook):
    for number in (ANA, BEN, CID):
        wrote(staff_client, number, 1)

    sent = _send_the_prices_to(staff_client, [ANA, BEN, CID])

    assert [answer.status for answer in sent] == ["accepted"] * 3
    assert sandbox.stats()["media_uploads"] == 1
    documents = sandbox.messages()
    assert sorted(m["to"] for m in documents) == [f"+{n}" for n in (ANA, BEN, CID)]
    assert {m["media"]["id"] for m in documents} == {sent[0].media_ref}
    assert {(m["media"]["filename"], m["text"]) for m in documents} == {("prices.pdf", "Our spring prices")}


def test_a_refused_upload_fails_the_lists_answers_with_the_reason_and_sends_nothing(staff_client, sandbox,
                                                                                     sandbox_sender, webhook):
    wrote(staff_client, ANA, 1)
    wrote(staff_client, BEN, 1)
    sandbox.fault(endpoint="media", status=400, code=100, count=1)

    sent = _send_the_prices_to(staff_client, [ANA, BEN])

    assert [answer.status for answer in sent] == ["failed", "failed"]
    assert sent[0].error_title.startswith("The file could not be uploaded to WhatsApp")
    assert sandbox.messages() == [] and sandbox.stats()["media_uploads"] == 0
    page = staff_client.get(f"/inbox/{sent[0].conversation_id}").get_data(as_text=True)
    assert "The file could not be uploaded to WhatsApp" in page
