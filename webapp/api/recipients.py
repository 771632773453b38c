"""Recipients added to a draft one by one: each number normalised, its parameters checked against the
template, and the rows stored by the one writer of recipient rows (webapp/campaigns/recipients.py).

The snapshot keeps these rows (it skips numbers a draft already has), so they are sent with the rest.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.api.parameters import ParameterError, as_variables
from webapp.campaigns.models import Campaign
from webapp.campaigns.recipients import Candidate, Refused, write
from webapp.campaigns.variables import check_mapping, media_header, resolve, slots
from webapp.contacts.models import Contact
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.services import sentence


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
    resolved = resolve(components, parameter_format, variables, header_url, name, attributes,
                       campaign.button_payloads)
    if resolved.missing:
        raise ParameterError(f"no value for {', '.join(resolved.missing)}")
    if resolved.too_long:
        raise ParameterError(f"too long: {resolved.too_long}")
    if filename and media_header(components, parameter_format) == "document":
        resolved.params["header"]["filename"] = filename
    return resolved.params


def _phone_and_fields(item) -> tuple[str, Mapping]:
    return (item, {}) if isinstance(item, str) else (item.get("phone_number", ""), item)


def _contact_id(item) -> int | None:
    """The contact a recipient names by id (an integer, or an object with `contact_id`); None for a number."""
    if isinstance(item, int):
        return item
    return item.get("contact_id") if isinstance(item, Mapping) else None


@dataclass(frozen=True)
class _Given(Candidate):
    """A recipient of the request: a candidate that brings its own values."""

    index: int = field(kw_only=True)
    item: object = field(kw_only=True)      # as the request gave it, echoed in the report
    fields: Mapping = field(kw_only=True)   # its name, attributes, template_parameters, header_url…


def _own_params(campaign: Campaign, given: _Given) -> dict:
    try:
        return row_params(campaign, given.fields, given.name, given.attributes)
    except ParameterError as error:
        raise Refused(str(error)) from None


def add(session: Session, campaign: Campaign, items: list, item_errors: Mapping[int, str],
        default_country: str) -> Report:
    """Store the valid recipients of one request on a draft (the caller holds its row lock and commits)."""
    report = Report()
    found: list[tuple[int, object, Mapping, str, str]] = []
    wanted = {_contact_id(item) for index, item in enumerate(items) if index not in item_errors} - {None}
    by_id = dict(session.execute(select(Contact.id, Contact.phone).where(Contact.id.in_(wanted))).all())
    for index, item in enumerate(items):
        if index in item_errors:
            report.refuse(index, item, item_errors[index])
            continue
        if isinstance(item, Mapping) and ("phone_number" in item) == ("contact_id" in item):
            report.refuse(index, item, "Give phone_number or contact_id (one of them).")
            continue
        if (contact_id := _contact_id(item)) is not None:
            if contact_id not in by_id:
                report.refuse(index, item, f"There is no contact {contact_id}.")
            else:
                found.append((index, item, {} if isinstance(item, int) else item, by_id[contact_id], ""))
            continue
        raw, fields = _phone_and_fields(item)
        try:
            phone = normalise(raw, default_country)
        except InvalidPhone as error:
            report.refuse(index, item, sentence(error.reason))
            continue
        found.append((index, item, fields, phone.e164, phone.region if len(phone.region) == 2 else ""))
    phones = list({phone for _, _, _, phone, _ in found})
    contacts = {c.phone: c for c in session.scalars(select(Contact).where(Contact.phone.in_(phones)))}
    candidates = []
    for index, item, fields, phone, country in found:
        contact = contacts.get(phone)
        candidates.append(_Given(
            phone, contact.id if contact else None,
            (fields.get("name") or (contact.name if contact else "") or "").strip()[:200],
            country or (contact.country if contact else ""),
            {**((contact.attributes if contact else None) or {}), **(fields.get("attributes") or {})},
            contact is not None and contact.opted_out_at is not None, index=index, item=item, fields=fields))
    written = write(session, campaign, candidates, params=_own_params)
    report.added = sum(status == "pending" for _, status in written.stored)
    report.duplicates = written.duplicates
    report.skipped = [{"index": given.index, "recipient": given.item, "reason": "opted out: never sent"}
                      for given, status in written.stored if status == "skipped"]
    for given, reason in written.refused:
        report.refuse(given.index, given.item, reason)
    report.errors.sort(key=lambda e: e["index"])
    report.skipped.sort(key=lambda e: e["index"])
    if not (campaign.audience or {}).get("direct"):
        campaign.audience = {**(campaign.audience or {}), "direct": True}
    return report
