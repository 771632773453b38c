"""The workspace: settings that every area reads (business name, country, time zone, webhook credentials)."""
