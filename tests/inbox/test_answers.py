"""Answering: inside the window only, never empty, through a job and the number's limiter, status by webhook."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import jobs.inbox
from tests.conftest import post
from tests.webhooks import meta
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Answer, Conversation, InboundMedia
from webapp.timestamps import utcnow
from webapp.webhooks.models import InboundMessage


def _conversation_after(client, number: str, hours_ago: float, text: str = "Is it in stock?") -> Conversation:
    at = utcnow() - timedelta(hours=hours_ago)
    assert meta.post(client, meta.message(f"wamid.IN.{number}.{hours_ago}", number, at, text)).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation).join(Contact).where(Contact.phone == f"+{number}"))


def _answers() -> list[Answer]:
    db.session.expire_all()
    return list(db.session.scalars(select(Answer).order_by(Answer.id)))


def test_an_answer_goes_through_the_sandbox_and_its_status_reaches_read(admin_client, sandbox, sandbox_sender,
                                                                          webhook):
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1)
    response = post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes, *in stock*!"})
    assert response.status_code == 302
    [answer] = _answers()
    assert answer.status == "pending" and answer.sent_by_id is not None
    assert jobs.inbox.send_answer(answer.id) == "accepted"
    assert jobs.inbox.send_answer(answer.id) == "not pending"  # a second run sends nothing again
    [answer] = _answers()
    [sent] = [m for m in sandbox.messages() if m.get("wamid") == answer.wamid]
    assert sent["type"] == "text" and sent["to"] == "+15550000001"
    for stage in ("sent", "delivered", "read"):
        meta.post(admin_client, meta.statuses(meta.status(answer.wamid, stage, utcnow(), "15550000001")))
    [answer] = _answers()
    assert answer.status == "read" and answer.read_at is not None
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "Yes, <strong>in stock</strong>!" in page and "badge-read" in page and "Ada Admin answered" in page


def test_an_empty_message_is_refused(admin_client, webhook):
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1)
    response = post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "   "})
    assert response.status_code == 422
    assert "an empty message can&#39;t be sent" in response.get_data(as_text=True)
    assert _answers() == []


def test_an_answer_after_the_window_closed_is_refused_with_the_reason_and_the_text_is_kept(admin_client, webhook):
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=24 + 1 / 60)  # 24:01 ago
    response = post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Sorry for the wait!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The 24-hour window closed" in page and "Sorry for the wait!" in page
    assert "only lets an approved template reach this customer" in page
    assert _answers() == []


def test_an_answer_at_23_59_is_taken(admin_client, webhook):
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=23 + 59 / 60)
    assert post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Just in time"}).status_code == 302
    [answer] = _answers()
    assert answer.text == "Just in time"
    assert not db.session.scalar(select(Conversation)).needs_answer
    # The customer's next question (Meta's timestamps are whole seconds: a moment after the answer).
    assert _conversation_after(admin_client, "15550000001", hours_ago=-2 / 3600).needs_answer


def test_an_answer_whose_window_closed_while_it_waited_fails_without_a_request(admin_client, sandbox_sender, webhook):
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=23.99)
    post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Late"})
    [answer] = _answers()
    db.session.execute(Conversation.__table__.update().values(
        last_customer_message_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert jobs.inbox.send_answer(answer.id) == "failed"
    [answer] = _answers()
    assert answer.error_code == 131047 and answer.wamid is None
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "More than 24 hours have passed since this customer last wrote." in page


def test_an_opted_out_customer_is_shown_and_may_still_get_the_windows_answer(admin_client, webhook):
    _conversation_after(admin_client, "15550000001", hours_ago=2, text="Do you deliver?")
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1, text="STOP")
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "This customer opted out" in page
    assert post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes, we do."}).status_code == 302
    assert [a.text for a in _answers()] == ["Yes, we do."]
    db.session.execute(Conversation.__table__.update().values(
        last_customer_message_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    closed = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "nothing more can be sent to them" in closed


def test_a_file_of_a_type_whatsapp_refuses_or_too_large_is_refused_before_any_upload(admin_client, webhook):
    from io import BytesIO

    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1)
    refused = post(admin_client, f"/inbox/{conversation.id}/answer",
                   {"text": "", "file": (BytesIO(b"MZ\x90\x00"), "setup.exe")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "WhatsApp does not take “setup.exe”" in refused.get_data(as_text=True)
    large = b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)
    too_large = post(admin_client, f"/inbox/{conversation.id}/answer",
                     {"text": "", "file": (BytesIO(large), "photo.jpg")}, content_type="multipart/form-data")
    assert too_large.status_code == 422 and "at most 5 MB" in too_large.get_data(as_text=True)
    assert _answers() == []
    taken = post(admin_client, f"/inbox/{conversation.id}/answer",
                 {"text": "Our catalogue", "file": (BytesIO(b"%PDF-1.4 tiny"), "catalogue.pdf")},
                 content_type="multipart/form-data")
    assert taken.status_code == 302
    [answer] = _answers()
    assert (answer.kind, answer.media_name, answer.text) == ("document", "catalogue.pdf", "Our catalogue")


def test_a_customers_photo_waits_for_its_download_and_a_failed_one_offers_a_retry(admin_client, webhook):
    at = utcnow() - timedelta(minutes=5)
    item = {"from": "15550000001", "id": "wamid.PHOTO", "timestamp": str(int(at.timestamp())), "type": "image",
            "image": {"id": "media-1", "mime_type": "image/jpeg", "sha256": "x", "caption": "This one"}}
    meta.post(admin_client, meta.envelope("messages", {"contacts": [{"profile": {"name": "Ana"}, "wa_id": "15550000001"}],
                                                        "messages": [item]}))
    message = db.session.scalar(select(InboundMessage).where(InboundMessage.wamid == "wamid.PHOTO"))
    media = db.session.get(InboundMedia, message.id)
    assert (media.status, media.media_id, media.mime_type) == ("pending", "media-1", "image/jpeg")
    conversation = db.session.scalar(select(Conversation))
    assert "image: downloading" in admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    media.status, media.error = "failed", "Meta said the media is gone"
    db.session.commit()
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "could not be downloaded: Meta said the media is gone" in page and ">Retry<" in page
    post(admin_client, f"/inbox/files/{message.id}/retry")
    db.session.expire_all()
    assert db.session.get(InboundMedia, message.id).status == "pending"


def test_a_stored_file_is_served_only_to_staff(client, admin_client, webhook):
    assert admin_client.get("/inbox/files/999").status_code == 404


def test_quick_answers_are_kept_by_admins_and_offered_in_the_composer(admin_client, webhook):
    response = post(admin_client, "/inbox/quick-answers", {"title": "Opening hours", "text": "We open at 9."})
    assert response.status_code == 302
    assert post(admin_client, "/inbox/quick-answers", {"title": "Opening hours", "text": "x"}).status_code == 422
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1)
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "Opening hours" in page and "We open at 9." in page


def test_staff_cannot_change_quick_answers(staff_client):
    assert post(staff_client, "/inbox/quick-answers", {"title": "x", "text": "y"}).status_code == 403


def test_the_composer_previews_whatsapp_formatting(admin_client):
    fragment = post(admin_client, "/inbox/preview", {"text": "*Sale* _today_ ~not~ <script>"}).get_data(as_text=True)
    assert "<strong>Sale</strong> <em>today</em> <del>not</del> &lt;script&gt;" in fragment


def test_an_answer_whose_worker_died_mid_request_becomes_unknown_by_the_scheduled_sweep(admin_client, webhook):
    from jobs.schedule import PERIODIC

    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1)
    post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "On its way"})
    [answer] = _answers()
    answer.status, answer.sending_at = "sending", utcnow() - timedelta(minutes=3)
    db.session.commit()
    assert jobs.inbox.sweep in PERIODIC and jobs.inbox.sweep() == 1
    assert _answers()[0].status == "unknown"
    assert "Whether this answer went is unknown" in admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)


def test_a_bubble_holds_the_messages_own_lines_and_nothing_of_the_page_around_them(admin_client, webhook):
    """Bubbles keep line breaks (white-space: pre-wrap), so whitespace around the text would show as blank lines."""
    conversation = _conversation_after(admin_client, "15550000001", hours_ago=1, text="Hello!\nIs it in blue?")
    post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes:\n*blue* and red"})
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert '<div class="bubble bubble-customer">Hello!\nIs it in blue?</div>' in page
    assert '<div class="bubble bubble-out"><div class="body">Yes:\n<strong>blue</strong> and red</div></div>' in page
