"""Events of the casework service, and the hospitals' inbound topic it consumes."""

from __future__ import annotations

from pdz_shared.contracts.spec import EventSpec, TopicSpec

ASST_DIMISSIONI_TOPIC = "asst.dimissioni.v1"
SOURCE = "/pdz/casework"

TOPICS = [
    TopicSpec(
        ASST_DIMISSIONI_TOPIC,
        "asst",
        "Dimissioni protette inviate dai sistemi ospedalieri delle ASST "
        "(Bundle FHIR R4 come CloudEvent)",
        key="encounter identifier",
    ),
]

EVENTS: list[EventSpec] = []
