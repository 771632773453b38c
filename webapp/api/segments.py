"""Segments as the API speaks of them: saved filters over all contacts (webapp/audience/segments.py decides), and
the count of a saved or unsaved definition. A bad condition is 422 with its index in `details.condition`."""
from __future__ import annotations

from webapp.api.blueprint import api
from webapp.api.routing import Call
from webapp.audience import segments
from webapp.audience.conditions import describe
from webapp.audience.models import Segment
from webapp.extensions import db
from webapp.timestamps import iso


def payload(segment: Segment) -> dict:
    return {"id": segment.id, "uuid": str(segment.public_id), "name": segment.name, "definition": segment.definition,
            "described": describe(db.session, segment.definition),
            "created_at": iso(segment.created_at), "updated_at": iso(segment.updated_at)}


def counted(definition) -> dict:
    found = segments.count(db.session, definition)
    return {"data": {"count": found.total, "definition": found.definition, "notes": found.notes}}


@api.route("GET", "/segments", tag="Segments", scope="segments:read", response="SegmentList",
           summary="Every segment, by name")
def list_segments(call: Call):
    """With their conditions, as saved and in words."""
    return {"data": [payload(segment) for segment in segments.all_segments(db.session)]}


@api.route("POST", "/segments", tag="Segments", scope="segments:write", ok=201, response="SegmentOne",
           body="SegmentCreate", errors=(409, 422), summary="Save a filter as a segment")
def create_segment(call: Call):
    """The name is unique whatever its case (409). The conditions are checked and saved normalised (attribute
    names as the workspace spells them, with their type); a bad one is 422 with its index in
    `details.condition`. A condition on an attribute or tag nobody has is allowed: it matches nobody for now."""
    segment = segments.create(db.session, call.body["name"], call.body.get("definition"))
    db.session.commit()
    return {"data": payload(segment)}, 201


@api.route("GET", "/segments/<id:segment_id>", tag="Segments", scope="segments:read", response="SegmentOne",
           errors=(404,), summary="A segment")
def get_segment(call: Call, segment_id: int):
    """Its conditions, as saved and in words; GET /segments/{id}/count counts who they match now."""
    return {"data": payload(segments.get(db.session, segment_id))}


@api.route("PATCH", "/segments/<id:segment_id>", tag="Segments", scope="segments:write", response="SegmentOne",
           body="SegmentUpdate", errors=(404, 409, 422), summary="Rename a segment or change its conditions")
def update_segment(call: Call, segment_id: int):
    """Only what is given changes; a refused change changes nothing. Broadcasts already launched keep the
    recipients they had; a scheduled one reads the conditions as they are when it launches."""
    segment = segments.update(db.session, segment_id, call.body.get("name"), call.body.get("definition"))
    db.session.commit()
    return {"data": payload(segment)}


@api.route("DELETE", "/segments/<id:segment_id>", tag="Segments", scope="segments:write", response="Deleted",
           errors=(404,), summary="Delete a segment")
def delete_segment(call: Call, segment_id: int):
    """Broadcasts composed for it keep a copy of its conditions, and send to them."""
    segments.delete(db.session, segment_id)
    db.session.commit()
    return {"data": {"id": segment_id, "deleted": True}}


@api.route("GET", "/segments/<id:segment_id>/count", tag="Segments", scope="segments:read",
           response="SegmentCount", errors=(404, 422), summary="How many contacts a segment matches now")
def count_segment(call: Call, segment_id: int):
    """Counted in the database, whatever the number of contacts. 422 when a condition no longer reads (an
    attribute's type was changed since it was saved)."""
    return counted(segments.get(db.session, segment_id).definition)


@api.route("POST", "/segments/count", tag="Segments", scope="segments:read", response="SegmentCount",
           body="SegmentCountOf", errors=(422,), summary="How many contacts a definition matches, unsaved")
def count_definition(call: Call):
    """As a builder counts while conditions change: nothing is saved. `notes` says what matches nobody."""
    return counted(call.body["definition"])
