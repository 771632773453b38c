"""Files in the inbox: what staff attach (type and size checked before any upload to Meta) and what customers send
(downloaded by a job through the Graph media endpoints). Both live in a private folder under the instance folder,
under random names, served only by a login-protected view.
"""
from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cloudapi import MB, MEDIA_KINDS, CloudAPI, CloudAPIError, MediaTooLarge, media_kind
from webapp.inbox.errors import InboxError
from webapp.inbox.models import InboundMedia
from webapp.senders.models import Sender
from webapp.senders.services import client_for

ANSWER_MEDIA = ("image", "video", "audio", "document")  # what staff may attach (WhatsApp's kinds, stickers aside)
LARGEST = max(kind.max_bytes for kind in MEDIA_KINDS.values())  # read no more of an upload than this + 1
# The first bytes a file of these types starts with: a name ending in .pdf is not enough.
SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "application/pdf": (b"%PDF-",)}
_EXTRA_TYPES = {".aac": "audio/aac", ".amr": "audio/amr", ".opus": "audio/ogg", ".m4a": "audio/mp4",
                ".3gp": "video/3gpp"}


def folder() -> Path:
    path = Path(current_app.config["SHARED_FILES_PATH"] or current_app.instance_path) / "inbox_media"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def stored_path(stored_file: str) -> Path:
    """The private path of a stored file (names are ours: random hex, never a user's)."""
    if not stored_file or not all(ch in "0123456789abcdef" for ch in stored_file):
        raise FileNotFoundError(stored_file)
    return folder() / stored_file


def _store(data: bytes) -> str:
    name = secrets.token_hex(16)
    (folder() / name).write_bytes(data)
    return name


# --- staff's attachments --------------------------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    kind: str
    stored_file: str
    name: str
    mime: str


def type_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or ""


def check_and_store(filename: str, data: bytes) -> Attachment:
    """Store a file staff attached, once its type and size suit WhatsApp; InboxError says why not."""
    name = Path(filename or "").name
    mime = type_of(name)
    found = media_kind(mime)
    if found is None or found.type not in ANSWER_MEDIA:
        raise InboxError(f"WhatsApp does not take “{name or 'this file'}”: send a JPEG or PNG image, an MP4 video, "
                         "an AAC, MP3, M4A, AMR or OGG audio, or a PDF, Word, Excel, PowerPoint or text document.",
                         field="file")
    kind, limit = found.type, found.max_bytes
    if not data:
        raise InboxError(f"“{name}” is empty.", field="file")
    if len(data) > limit:
        raise InboxError(f"“{name}” is {len(data) / MB:.1f} MB; WhatsApp takes {kind}s of at most {limit // MB} MB.",
                         field="file")
    if mime in SIGNATURES and not data.startswith(SIGNATURES[mime]):
        raise InboxError(f"“{name}” is not the {mime.split('/')[1].upper()} file its name says.", field="file")
    return Attachment(kind, _store(data), name, mime)


# --- customers' files -----------------------------------------------------------------------------

def max_bytes() -> int:
    return int(current_app.config.get("INBOX_MEDIA_MAX_MB", 25)) * MB


@dataclass(frozen=True)
class Fetch:
    """What a download needs, read before its requests (no transaction stays open across them)."""

    inbound_message_id: int
    media_id: str
    client: CloudAPI | None  # None when no sender number is left to fetch it through


@dataclass(frozen=True)
class Fetched:
    stored_file: str = ""
    size: int = 0
    error: str = ""


def to_fetch(session: Session, inbound_message_id: int) -> Fetch | None:
    """The download waiting for this message, or None (none, or stored already)."""
    media = session.get(InboundMedia, inbound_message_id)
    if media is None or media.status == "stored":
        return None
    sender = session.get(Sender, media.sender_id) if media.sender_id else \
        session.scalar(select(Sender).order_by(Sender.id).limit(1))
    return Fetch(inbound_message_id, media.media_id, client_for(sender) if sender else None)


def fetch(job: Fetch) -> Fetched:
    """Fetch a customer's file through media_info + download_media (streamed, stopped at the inbox's cap) and
    store it (no database here)."""
    if job.client is None:
        return Fetched(error="No sender number to fetch the file through.")
    cap = max_bytes()
    try:
        info = job.client.media_info(job.media_id)
        if info.file_size > cap:
            raise MediaTooLarge(info.mime_type)
        data = job.client.download_media(info.url, cap)
        return Fetched(_store(data), len(data))
    except MediaTooLarge:
        return Fetched(error=f"The file is larger than the inbox's limit of {cap // MB} MB (INBOX_MEDIA_MAX_MB).")
    except (CloudAPIError, OSError) as exc:
        return Fetched(error=str(exc) or type(exc).__name__)


def record_fetch(session: Session, inbound_message_id: int, fetched: Fetched) -> str:
    """Keep the download's result on the row: stored, or failed with why (a Retry starts again)."""
    media = session.get(InboundMedia, inbound_message_id, populate_existing=True)
    if media is None:
        return "gone"
    media.status = "stored" if fetched.stored_file else "failed"
    media.stored_file, media.size, media.error = fetched.stored_file, fetched.size, fetched.error
    return media.status


def retry(media: InboundMedia) -> None:
    """Download again a file whose download failed (the view enqueues the job on commit)."""
    if media.status != "failed":
        raise InboxError("This file is not waiting for a retry.", code="conflict")
    media.status, media.error = "pending", ""
