"""The Inbox: customers' conversations, answered by staff within WhatsApp's 24-hour window."""
