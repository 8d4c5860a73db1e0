"""Event contracts shared by the services: topics, CloudEvent types and payload schemas.

This package is the only thing services share about each other's events. Payloads carry no
names and no codice fiscale. Each producer owns one module (``plans``, ``indicators``,
``casework``, ``notifications``); ``catalogue`` gathers them.
"""
