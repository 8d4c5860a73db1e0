"""Event contracts shared by the services: topics, CloudEvent types and payload schemas.

This package is the only thing services share about each other's events. Payloads carry no
names and no codice fiscale.
"""

from pdz_shared.contracts.catalogue import EVENTS, TOPICS, EventSpec, TopicSpec, event_spec

__all__ = ["EVENTS", "TOPICS", "EventSpec", "TopicSpec", "event_spec"]
