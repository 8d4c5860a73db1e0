"""Generates the AsyncAPI 3.0 document of every topic and event payload."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from pdz_shared.contracts.catalogue import EVENTS, TOPICS

CE_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka protocol binding, binary content mode",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique event id (idempotency key)"},
        "ce_source": {"type": "string", "example": "/pdz/plans"},
        "ce_type": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string"},
        "ce_requestid": {"type": "string", "description": "Request id that caused the event"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _message_name(event_type: str) -> str:
    return event_type.removeprefix("it.pdz.").replace(".", "_").replace("-", "_")


def build() -> dict[str, Any]:
    models = sorted({e.payload for e in EVENTS}, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = defs.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS.values():
        events = [e for e in EVENTS if e.topic == topic.name]
        channel_id = topic.name.replace(".", "_")
        channels[channel_id] = {
            "address": topic.name,
            "description": f"{topic.description}. Key: {topic.key}. Dead letters: {topic.name}.dlq",
            "messages": {
                _message_name(e.type): {"$ref": f"#/components/messages/{_message_name(e.type)}"}
                for e in events
            },
            "bindings": {
                "kafka": {
                    "partitions": topic.partitions,
                    "topicConfiguration": {"retention.ms": topic.retention_days * 86_400_000},
                }
            },
        }
        if events:
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"Published by {topic.producer}",
                "messages": [
                    {"$ref": f"#/channels/{channel_id}/messages/{_message_name(e.type)}"}
                    for e in events
                ],
            }
        for e in events:
            messages[_message_name(e.type)] = {
                "name": e.type,
                "title": e.summary,
                "contentType": "application/json",
                "summary": f"{e.summary}. Consumers: {', '.join(e.consumers) or '-'}",
                "headers": CE_HEADERS,
                "payload": {"$ref": f"#/components/schemas/{e.payload.__name__}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Piattaforma Piano di Zona - eventi",
            "version": "1.0.0",
            "description": "Topics and CloudEvents exchanged by the plans, indicators, casework "
            "and notifications services over Kafka (binary mode; key = "
            "aggregate id). Generated from pdz_shared.contracts.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=100)
