"""The JSON API under /api/v1, authenticated with scoped API keys."""
