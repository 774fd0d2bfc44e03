"""Reports: SQL-side aggregates over incidents and actions, pure of Flask and services."""
