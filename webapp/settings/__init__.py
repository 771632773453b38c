"""Admin settings: the workspace, staff accounts, sender numbers and templates, API keys."""
