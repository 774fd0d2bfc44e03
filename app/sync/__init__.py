"""Keeping Jira and Hindsight in step: port, adapter, mapping, outbox, reconcile."""
