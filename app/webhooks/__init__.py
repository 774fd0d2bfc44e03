"""Inbound webhooks: one module per source, each a plain Flask blueprint.

They sit outside the `/api/v1` framework because they authenticate by
signature rather than bearer token and need the raw body to check it.
"""
