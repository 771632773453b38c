"""Staff accounts: first-run setup, login with throttling, logout, roles."""
