"""Meta's webhook: verify, store and apply statuses, replies and opt-outs; the Replies page."""
