"""Outbound events: signed JSON POSTs to the HTTPS endpoints admins register (Settings → Events)."""
