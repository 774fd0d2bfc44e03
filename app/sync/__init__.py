"""Keeping Jira and Hindsight in step, the parts: the tracker port and its adapters, the
mapping, outbox rows, one push round, leases and the back-off policy. The use cases that
drive them are in `app.services` (`tracker_sync`, `tracker_inbound`, `tracker_apply`,
`tracker_reconcile`, `sweep`); nothing here imports the services or the runtime."""
