"""Incident-source payload parsers: one module per source, each turning a payload into events.

Pure functions over parsed JSON (no Flask, no database), so the receivers in
`app/api/webhooks.py` and the intake service can both use them. The Jira
payload is not here: Jira's shapes stay inside the sync adapter.
"""
