"""Secrets at rest: sender access tokens and the webhook's credentials are stored encrypted (Fernet) with a key
derived from SECRET_KEY, opened transparently by their column type, and re-encrypted when SECRET_KEY changes."""
from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import MetaData, Text, column, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

PURPOSE = b"broadcaster: secrets at rest"  # another use of SECRET_KEY gets another key
ADVICE = "If SECRET_KEY changed, run `flask --app app secrets rotate` with the previous one (docs/deploy.md)."


class SecretUnreadable(RuntimeError):
    """A stored secret does not open with the key given; the message says what to do."""


@lru_cache(maxsize=8)
def fernet(secret_key: str) -> Fernet:
    """The Fernet key of a SECRET_KEY: HKDF-SHA256 turns any string into 32 well-spread bytes."""
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str, secret_key: str) -> str:
    return fernet(secret_key).encrypt(value.encode()).decode()


def unseal(token: str, secret_key: str) -> str:
    try:
        return fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(f"A stored secret does not open with the current SECRET_KEY. {ADVICE}") from None


class EncryptedText(TypeDecorator):
    """Text encrypted with the app's SECRET_KEY; an empty value (a secret not set) is stored empty."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return seal(value, current_app.config["SECRET_KEY"]) if value else value

    def process_result_value(self, value, dialect):
        return unseal(value, current_app.config["SECRET_KEY"]) if value else value


def rotate(session: Session, metadata: MetaData, old_key: str, new_key: str) -> int:
    """Re-encrypt every encrypted column of every table with new_key; return how many values were.

    A value may already be under new_key (a rotation run twice). One that opens with neither raises
    SecretUnreadable naming it, and the caller rolls back: nothing is changed half-way."""
    keys = MultiFernet([fernet(new_key), fernet(old_key)])
    rotated = 0
    for model_table in metadata.sorted_tables:
        names = [c.name for c in model_table.columns if isinstance(c.type, EncryptedText)]
        if not names:
            continue
        [key] = model_table.primary_key.columns
        # The raw values, read and written past EncryptedText.
        raw = table(model_table.name, column(key.name), *(column(name, Text) for name in names))
        for row in session.execute(select(raw)).mappings().all():
            changes = {}
            for name in (name for name in names if row[name]):
                try:
                    changes[name] = keys.rotate(row[name].encode()).decode()
                except InvalidToken:
                    raise SecretUnreadable(
                        f"{model_table.name}.{name} of row {row[key.name]} opens with neither the current "
                        "SECRET_KEY nor the old key given; nothing was changed.") from None
            if changes:
                session.execute(update(raw).where(raw.c[key.name] == row[key.name]).values(changes))
                rotated += len(changes)
    return rotated
