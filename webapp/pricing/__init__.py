"""What messages cost: Meta's rate card (per market and category), the workspace's copy of it, and the month's spend."""
