"""Contacts: the people staff message, the lists they keep them in, and importing them from files."""
