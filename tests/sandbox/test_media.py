"""Media as Meta's Graph API serves it, over raw HTTP: upload a file (multipart) and get its id, read the id
for a short-lived URL, download the URL with the bearer token, delete it; files WhatsApp refuses get Meta's
errors; a message can carry the id; customers' files arrive by webhook and download the same way."""
from __future__ import annotations

import base64
import hashlib

from tests.sandbox.harness import PHONE_NUMBER_ID, TOKEN
from tests.sandbox.payloads import assert_meta_error, sent_wamid, statuses_of

JPEG = b"\xff\xd8\xff\xe0" + b"a small photo" * 100
PDF = b"%PDF-1.4 price list"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def upload(sandbox, data: bytes, mime_type: str, filename: str = "photo.jpg", **fields):
    form = {"messaging_product": "whatsapp", "type": mime_type, **fields}
    return sandbox.http.post(sandbox.graph_url(f"{PHONE_NUMBER_ID}/media"), data=form,
                             files={"file": (filename, data, mime_type)}, headers=AUTH, timeout=30)


def uploaded(sandbox, data: bytes = JPEG, mime_type: str = "image/jpeg") -> str:
    answer = upload(sandbox, data, mime_type)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def test_an_upload_answers_an_id_whose_url_serves_the_bytes_with_the_token(sandbox):
    media_id = uploaded(sandbox)
    assert media_id.isdigit()

    info = sandbox.get(media_id).json()
    assert info == {"messaging_product": "whatsapp", "url": info["url"], "mime_type": "image/jpeg",
                    "sha256": hashlib.sha256(JPEG).hexdigest(), "file_size": len(JPEG), "id": media_id}
    download = sandbox.http.get(info["url"], headers=AUTH, timeout=5)
    assert (download.status_code, download.content) == (200, JPEG)
    assert download.headers["Content-Type"] == "image/jpeg"


def test_the_media_url_needs_the_token_and_a_genuine_address(sandbox):
    url = sandbox.get(uploaded(sandbox)).json()["url"]

    assert sandbox.http.get(url, timeout=5).status_code == 401
    assert sandbox.http.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    assert sandbox.http.get(url.replace("hash=", "hash=0"), headers=AUTH, timeout=5).status_code == 404


def test_deleted_media_is_gone_from_the_graph_and_its_url(sandbox):
    media_id = uploaded(sandbox)
    url = sandbox.get(media_id).json()["url"]

    deleted = sandbox.http.delete(sandbox.graph_url(media_id), headers=AUTH, timeout=5)

    assert deleted.json() == {"success": True}
    assert sandbox.get(media_id).json()["error"]["code"] == 100
    assert sandbox.http.get(url, headers=AUTH, timeout=5).status_code == 404
    assert sandbox.http.delete(sandbox.graph_url(media_id), headers=AUTH, timeout=5).status_code == 400


def test_a_file_of_a_type_whatsapp_refuses_gets_metas_list_of_types(sandbox):
    error = upload(sandbox, b"GIF89a", "image/gif", "dance.gif").json()["error"]

    assert error["code"] == 100 and error["type"] == "OAuthException" and "error_data" not in error
    assert error["message"].startswith("(#100) Param file must be a file with one of the following types: audio/aac")
    assert error["message"].endswith("Received file of type 'image/gif'.")


def test_a_file_too_large_for_its_type_is_refused(sandbox):
    too_large = upload(sandbox, b"\xff" * (5 * 1024 * 1024 + 1), "image/jpeg")

    error = assert_meta_error(too_large, 131053)
    assert "at most 5,242,880 bytes" in error["error_data"]["details"]
    assert upload(sandbox, b"\xff" * (5 * 1024 * 1024 + 1), "application/pdf", "big.pdf").status_code == 200


def test_an_upload_without_messaging_product_or_file_is_refused(sandbox):
    assert_meta_error(upload(sandbox, JPEG, "image/jpeg", messaging_product=""), 100)
    no_file = sandbox.http.post(sandbox.graph_url(f"{PHONE_NUMBER_ID}/media"), headers=AUTH, timeout=5,
                                files={"messaging_product": (None, "whatsapp")})
    assert_meta_error(no_file, 100)


def test_a_message_carries_an_uploaded_id_and_an_unknown_id_fails_131053(sandbox, webhooks):
    sandbox.configure(pair_interval=0)
    sandbox.control("POST", "service-window", json={"number": "+56961234550", "customer_wrote_ago": 60})
    media_id = uploaded(sandbox, PDF, "application/pdf")

    def send(document: dict) -> list[dict]:
        wamid = sent_wamid(sandbox.send({"messaging_product": "whatsapp", "to": "+56961234550",
                                         "type": "document", "document": document}))
        return webhooks.wait_for(lambda w: [s for s in statuses_of(w, wamid) if s["status"] in ("failed", "read")])

    assert send({"id": media_id, "filename": "prices.pdf"})[0]["status"] == "read"
    [failed] = send({"id": "800000000000000", "filename": "prices.pdf"})
    assert failed["errors"][0]["code"] == 131053
    [record, _] = sandbox.messages()
    assert record["media"] == {"type": "document", "id": media_id, "filename": "prices.pdf"}


def test_faults_make_media_reads_and_downloads_fail(sandbox):
    media_id = uploaded(sandbox)
    sandbox.fault(endpoint="media_download", status=500, count=1)
    sandbox.fault(endpoint="media", status=400, code=131052, count=1)

    assert_meta_error(sandbox.get(media_id), 131052)
    url = sandbox.get(media_id).json()["url"]
    assert sandbox.http.get(url, headers=AUTH, timeout=5).status_code == 500
    assert sandbox.http.get(url, headers=AUTH, timeout=5).content == JPEG


def test_a_customers_photo_arrives_as_metas_image_webhook_and_downloads(sandbox, webhooks):
    sandbox.control("POST", "inbound", json={
        "from": "+56961234551", "image": {"data_base64": base64.b64encode(JPEG).decode(), "mime_type": "image/jpeg",
                                          "caption": "This one?"}})

    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["type"] == "image" and message["from"] == "56961234551"
    image = message["image"]
    assert image == {"caption": "This one?", "mime_type": "image/jpeg", "sha256": hashlib.sha256(JPEG).hexdigest(),
                     "id": image["id"]}
    url = sandbox.get(image["id"]).json()["url"]
    assert sandbox.http.get(url, headers=AUTH, timeout=5).content == JPEG


def test_a_customers_document_keeps_its_filename(sandbox, webhooks):
    sandbox.control("POST", "inbound", json={
        "from": "+56961234551",
        "document": {"data_base64": base64.b64encode(PDF).decode(), "mime_type": "application/pdf",
                     "filename": "order.pdf"}})

    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["type"] == "document"
    assert {k: message["document"][k] for k in ("filename", "mime_type")} == {"filename": "order.pdf",
                                                                              "mime_type": "application/pdf"}
    assert sandbox.control("GET", "service-window", params={"number": "+56961234551"})["open"] is True


def test_a_customers_file_that_is_not_what_it_says_is_refused(sandbox):
    for spec in ({"image": {"data_base64": base64.b64encode(PDF).decode(), "mime_type": "application/pdf"}},
                 {"image": {"data_base64": "not base64!", "mime_type": "image/jpeg"}}):
        answer = sandbox.http.post(f"{sandbox.base_url}/_sandbox/inbound", json={"from": "+56961234551", **spec},
                                   timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]
    assert sandbox.control("GET", "inbound")["data"] == []


def test_a_file_part_without_its_own_type_takes_the_type_field(sandbox):
    answer = sandbox.http.post(sandbox.graph_url(f"{PHONE_NUMBER_ID}/media"), headers=AUTH, timeout=5,
                               data={"messaging_product": "whatsapp", "type": "image/png"},
                               files={"file": ("photo.png", JPEG)})  # no Content-Type on the part

    info = sandbox.get(answer.json()["id"]).json()
    assert (info["mime_type"], info["file_size"]) == ("image/png", len(JPEG))
