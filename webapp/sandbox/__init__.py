"""The sandbox: a stand-in for Meta's WhatsApp Cloud API on localhost, run as its own process.

It speaks the Graph API's wire format (sends, templates, errors, rate limits) and calls the app's
webhook back with signed statuses and replies, so Broadcaster runs and is tested offline.
It never imports the Flask app. Start it with `flask sandbox run` or `python -m webapp.sandbox run`;
docs/sandbox.md lists its settings, endpoints and the deterministic profile.
"""
