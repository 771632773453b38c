"""Recipients added to a draft one by one: each number normalised, its parameters checked against the
template, and the rows stored in bulk with the campaign's counters, as the launch snapshot stores its own.

The snapshot keeps these rows (it skips numbers a draft already has), so they are sent with the rest.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.api.parameters import ParameterError, as_variables
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import check_mapping, media_header, resolve, slots
from webapp.contacts.models import Contact
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.services import sentence
from webapp.timestamps import utcnow
from webapp.transactions import upsert

OPTED_OUT = "Opted out"  # the launch snapshot's word for the same skip


@dataclass
class Report:
    added: int = 0
    duplicates: int = 0
    skipped: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def refuse(self, index: int, given, reason: str) -> None:
        self.errors.append({"index": index, "recipient": given, "reason": reason})


def row_params(campaign: Campaign, item: Mapping, name: str, attributes: Mapping) -> dict:
    """The parameter snapshot of one recipient: its own template_parameters, else the campaign's mapping."""
    components, parameter_format = campaign.template_components, campaign.parameter_format
    variables = dict(campaign.variables or {})
    header_url = item.get("header_url") or campaign.header_media_url
    filename = item.get("header_filename") or ""
    if item.get("template_parameters") is not None:
        constants, media = as_variables(components, parameter_format, item["template_parameters"])
        variables.update(constants)
        header_url = media.get("header_url") or header_url
        filename = media.get("header_filename") or filename
    lacking = [slot.label for slot in slots(components, parameter_format) if slot.key not in variables]
    if lacking:
        raise ParameterError(f"no value for {', '.join(lacking)}: give template_parameters, or a variable mapping "
                             "for the broadcast")
    problems = check_mapping(components, parameter_format, variables, header_url)
    if problems:
        key, message = next(iter(problems.items()))
        raise ParameterError(f"{key.replace('header_media_url', 'header_url')}: {message}")
    resolved = resolve(components, parameter_format, variables, header_url, name, attributes)
    if resolved.missing:
        raise ParameterError(f"no value for {', '.join(resolved.missing)}")
    if resolved.too_long:
        raise ParameterError(f"too long: {resolved.too_long}")
    if filename and media_header(components, parameter_format) == "document":
        resolved.params["header"]["filename"] = filename
    return resolved.params


def _phone_and_fields(item) -> tuple[str, Mapping]:
    return (item, {}) if isinstance(item, str) else (item.get("phone_number", ""), item)


def add(session: Session, campaign: Campaign, items: list, item_errors: Mapping[int, str],
        default_country: str) -> Report:
    """Store the valid recipients of one request on a draft (the caller holds its row lock and commits)."""
    report = Report()
    wanted: dict[str, tuple[int, object, Mapping, str]] = {}
    for index, item in enumerate(items):
        if index in item_errors:
            report.refuse(index, item, item_errors[index])
            continue
        raw, fields = _phone_and_fields(item)
        try:
            phone = normalise(raw, default_country)
        except InvalidPhone as error:
            report.refuse(index, item, sentence(error.reason))
            continue
        if phone.e164 in wanted:
            report.duplicates += 1
            continue
        wanted[phone.e164] = (index, item, fields, phone.region if len(phone.region) == 2 else "")
    contacts = {c.phone: c for c in session.scalars(select(Contact).where(Contact.phone.in_(list(wanted))))}
    rows, skipped = [], {}
    for phone, (index, item, fields, country) in wanted.items():
        contact = contacts.get(phone)
        name = (fields.get("name") or (contact.name if contact else "") or "").strip()[:200]
        row = {"campaign_id": campaign.id, "contact_id": contact.id if contact else None, "phone": phone,
               "name": name, "country": country or (contact.country if contact else ""), "status": "pending",
               "params": None, "skip_reason": "", "created_at": utcnow()}
        if contact is not None and contact.opted_out_at is not None:
            row.update(status="skipped", skip_reason=OPTED_OUT)
            skipped[phone] = {"index": index, "recipient": item, "reason": "opted out: never sent"}
        else:
            attributes = {**((contact.attributes if contact else None) or {}), **(fields.get("attributes") or {})}
            try:
                row["params"] = row_params(campaign, fields, name, attributes)
            except ParameterError as error:
                report.refuse(index, item, str(error))
                continue
        rows.append(row)
    if rows:
        stmt = upsert(session, Recipient.__table__).on_conflict_do_nothing(index_elements=["campaign_id", "phone"])
        written = session.execute(stmt.returning(Recipient.__table__.c.phone, Recipient.__table__.c.status),
                                  rows).all()
        by_status = Counter(status for _, status in written)
        add_counts(session, campaign.id, {"total": len(written), **by_status})
        report.added = by_status["pending"]
        report.duplicates += len(rows) - len(written)
        report.skipped = [skipped[phone] for phone, status in written if status == "skipped"]
    report.errors.sort(key=lambda e: e["index"])
    report.skipped.sort(key=lambda e: e["index"])
    if not (campaign.audience or {}).get("direct"):
        campaign.audience = {**(campaign.audience or {}), "direct": True}
    return report
