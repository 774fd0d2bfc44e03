"""The notification port: channels that carry one message to one recipient.

A channel knows a wire protocol and nothing of Hindsight's rows: the
notification service (app/services/notifications.py) routes, stores each
message as an outbox row, and asks a channel to send it. A channel raises
`DeliveryError` saying whether trying again could help, and every call has a
timeout, so a channel that is down costs the delivery job one bounded wait.
The Jira comment goes through the Tracker port (app/sync), driven by the
service, since ports never import each other.
"""
