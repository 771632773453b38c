"""The landing page after login: what is happening now, and where to go next."""
