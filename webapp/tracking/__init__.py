"""The campaign page's live parts: counters, rates and funnel, the timeline, the per-recipient log."""
