"""Campaigns: compose, launch, send at the sender's rate, and track every recipient row."""
