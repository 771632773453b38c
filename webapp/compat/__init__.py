"""The broadcast APIs of other products, spoken under /compat/<name>/ (webapp/compat/blueprint.py registers them)."""
