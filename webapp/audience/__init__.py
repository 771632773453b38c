"""The audience: every contact in one place, filtered by attribute, tag, list and behaviour; saved filters
(segments) that campaigns can be sent to."""
