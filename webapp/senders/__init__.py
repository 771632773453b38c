"""Sender numbers and their templates: configured by admins, chosen when composing a campaign."""
