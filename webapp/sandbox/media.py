"""The files the sandbox holds, as Meta's media service does: what the business uploads (to send by id) and what
customers send (for the app to download). Each gets a numeric media id; its download URL is signed and lives
five minutes, as Meta's do, and is served only with the bearer token (graph.py)."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from webapp.cloudapi import MEDIA_KINDS, media_kind
from webapp.sandbox.errors import GraphError, fbtrace_id

URL_LIFETIME = 300  # seconds a media URL can be downloaded (Meta: 5 minutes)
DOWNLOAD_PATH = "/whatsapp_business/attachments/"  # Meta's is on lookaside.fbsbx.com
_first_id = 800_000_000_000_000  # media ids look like Meta's: 15-16 digits


class UnsupportedMediaType(GraphError):
    """A file of a type WhatsApp does not take, refused as Meta refuses it: a plain 100 without error_data."""

    def __init__(self, received: str) -> None:
        super().__init__(100, f"Param file must be a file with one of the following types: "
                              f"{', '.join(MEDIA_KINDS)}. Received file of type '{received}'.")

    def envelope(self) -> dict:
        return {"error": {"message": f"(#100) {self.details}", "type": "OAuthException", "code": 100,
                          "fbtrace_id": fbtrace_id()}}


def checked(mime_type: str, size: int) -> str:
    """The file's MIME type, bare, once WhatsApp would take a file of this type and size; else the Graph error."""
    kind = media_kind(mime_type)
    if kind is None:
        raise UnsupportedMediaType(mime_type)
    if size > kind.max_bytes:
        raise GraphError(131053, f"The {kind.type} is {size:,} bytes; WhatsApp takes {mime_type} files of at most "
                                 f"{kind.max_bytes:,} bytes.")
    if size == 0:
        raise GraphError(131053, "The file is empty.")
    return mime_type.split(";", 1)[0].strip().lower()


@dataclass
class StoredMedia:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes = field(repr=False)
    filename: str | None = None
    sha256: str = ""

    def info(self, url: str) -> dict:
        """`GET /{media-id}`'s answer."""
        return {"messaging_product": "whatsapp", "url": url, "mime_type": self.mime_type, "sha256": self.sha256,
                "file_size": len(self.data), "id": self.id}

    def as_json(self) -> dict:
        return {"id": self.id, "phone_number_id": self.phone_number_id, "mime_type": self.mime_type,
                "filename": self.filename, "sha256": self.sha256, "file_size": len(self.data)}


class MediaStore:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # signs download URLs
        self._ids = itertools.count(_first_id + secrets.randbelow(10**12))
        self.clear()

    def clear(self) -> None:
        self.files: dict[str, StoredMedia] = {}
        self.uploads = 0  # files the business uploaded through the Graph endpoint (stats' media_uploads)

    def add(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None = None) -> StoredMedia:
        media = StoredMedia(str(next(self._ids)), phone_number_id, mime_type, data, filename,
                            hashlib.sha256(data).hexdigest())
        self.files[media.id] = media
        return media

    def get(self, media_id: str, phone_number_id: str | None = None) -> StoredMedia | None:
        """The file, unless it is unknown, deleted, or (when asked) not of that business number."""
        media = self.files.get(media_id)
        if media is None or (phone_number_id and media.phone_number_id != phone_number_id):
            return None
        return media

    def delete(self, media_id: str) -> bool:
        return self.files.pop(media_id, None) is not None

    def url(self, origin: str, media_id: str) -> str:
        """A download URL for the file, signed, good for URL_LIFETIME seconds."""
        expires = str(int(time.time()) + URL_LIFETIME)
        return f"{origin}{DOWNLOAD_PATH}?" + urlencode({"mid": media_id, "ext": expires,
                                                        "hash": self._sign(media_id, expires)})

    def download(self, media_id: str, expires: str, signature: str) -> StoredMedia | None:
        """The file a download URL names, if the URL is genuine, has not expired and the file still exists."""
        if not hmac.compare_digest(signature.encode(), self._sign(media_id, expires).encode()):
            return None
        if not expires.isdigit() or int(expires) < time.time():
            return None
        return self.files.get(media_id)

    def _sign(self, media_id: str, expires: str) -> str:
        return hmac.new(self._key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
