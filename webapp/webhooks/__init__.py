"""Meta's webhook: verify, store, apply statuses and replies; the live campaign pages."""
