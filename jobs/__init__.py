"""RQ job functions: thin entry points that load by id, call a service, and commit."""
