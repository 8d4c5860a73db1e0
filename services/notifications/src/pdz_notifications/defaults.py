"""The rules and templates the service ships with (seeded by migration 0003, editable by API).

Default rules (issue 7):

All send e-mail and inbox messages, to recipients of the event's ambito:

| code | event | recipients | critical | digest |
|---|---|---|---|---|
| discharge-received-pua | casework discharge.received | pua_operator | yes | - |
| sla-due-soon-case-manager | casework sla.due-soon | the case manager | no | - |
| sla-breached-escalation | casework sla.breached | case manager, udp_admin | yes | - |
| target-at-risk-udp-admin | indicators target.at-risk | udp_admin | no | 60 min |
| plan-published-viewers | plans plan.published | udp_viewer | no | 1 day |

Messages never name the person: casework events carry only the case id, territory, dates.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from pdz_shared.contracts import casework, indicators, plans
from pdz_shared.db import utcnow

TARGET_AT_RISK = indicators.TARGET_AT_RISK
PLAN_PUBLISHED = plans.PLAN_PUBLISHED
DIGEST_KEY = "digest"

_NS = uuid.UUID("6f1f7c2e-8a53-4c3e-9f7e-2d7a0b1c5e10")


def _rule(
    code: str,
    description: str,
    event_type: str,
    *,
    roles: list[str],
    recipient_fields: list[str] | None = None,
    critical: bool,
    digest_minutes: int | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(_NS, "rule:" + code),
        "code": code,
        "description": description,
        "event_type": event_type,
        "filters": {},
        "roles": roles,
        "recipient_fields": recipient_fields or [],
        "channels": ["email", "inbox"],
        "template_key": event_type,
        "critical": critical,
        "digest_minutes": digest_minutes,
        "enabled": True,
        "ambito_code": None,
        "is_default": True,
        "version": 1,
        "created_by": "system",
    }


RULES: list[dict[str, Any]] = [
    _rule(
        "discharge-received-pua",
        "Dimissione protetta ricevuta: avvisa gli operatori PUA dell'ambito",
        casework.DISCHARGE_RECEIVED,
        roles=["pua_operator"],
        critical=True,
    ),
    _rule(
        "sla-due-soon-case-manager",
        "Scadenza vicina: avvisa il case manager",
        casework.SLA_DUE_SOON,
        roles=[],
        recipient_fields=["case_manager_sub"],
        critical=False,
    ),
    _rule(
        "sla-breached-escalation",
        "Scadenza superata: avvisa il case manager e l'Ufficio di Piano",
        casework.SLA_BREACHED,
        roles=["udp_admin"],
        recipient_fields=["case_manager_sub"],
        critical=True,
    ),
    _rule(
        "target-at-risk-udp-admin",
        "Target a rischio: avvisa l'Ufficio di Piano (riepilogo orario)",
        TARGET_AT_RISK,
        roles=["udp_admin"],
        critical=False,
        digest_minutes=60,
    ),
    _rule(
        "plan-published-viewers",
        "Piano pubblicato: avvisa chi consulta il Piano dell'ambito (riepilogo giornaliero)",
        PLAN_PUBLISHED,
        roles=["udp_viewer"],
        critical=False,
        digest_minutes=1440,
    ),
]

_CASE = "{{ data.ambito_code }}{% if data.comune_code %} / {{ data.comune_code }}{% endif %}"

# (key, subject it, body it, subject en, body en)
_TEXTS: list[tuple[str, str, str, str, str]] = [
    (
        casework.DISCHARGE_RECEIVED,
        "Dimissione protetta in arrivo (" + _CASE + ")",
        "È arrivata una dimissione protetta da {{ data.sending_organization }} per un caso "
        "dell'ambito " + _CASE + ".\n"
        "Dimissione prevista: {{ data.planned_discharge_date }}.\n"
        "Caso: {{ data.case_id }}. Apri il caso nella piattaforma per organizzare la transizione.",
        "Protected discharge incoming (" + _CASE + ")",
        "A protected discharge from {{ data.sending_organization }} arrived for a case of "
        "ambito " + _CASE + ".\n"
        "Planned discharge: {{ data.planned_discharge_date }}.\n"
        "Case: {{ data.case_id }}. Open the case in the platform to organise the transition.",
    ),
    (
        casework.SLA_DUE_SOON,
        "Scadenza vicina: {{ data.kind }} (caso {{ data.case_id }})",
        "La scadenza {{ data.kind }} del caso {{ data.case_id }} ({{ data.ambito_code }}) "
        "è fissata per {{ data.due_at }}.",
        "Deadline approaching: {{ data.kind }} (case {{ data.case_id }})",
        "The {{ data.kind }} deadline of case {{ data.case_id }} ({{ data.ambito_code }}) "
        "is due at {{ data.due_at }}.",
    ),
    (
        casework.SLA_BREACHED,
        "Scadenza superata: {{ data.kind }} (caso {{ data.case_id }})",
        "La scadenza {{ data.kind }} del caso {{ data.case_id }} ({{ data.ambito_code }}) "
        "era fissata per {{ data.due_at }} ed è stata superata.",
        "Deadline missed: {{ data.kind }} (case {{ data.case_id }})",
        "The {{ data.kind }} deadline of case {{ data.case_id }} ({{ data.ambito_code }}) "
        "was due at {{ data.due_at }} and has been missed.",
    ),
    (
        TARGET_AT_RISK,
        "Target a rischio: {{ data.indicator_code }} ({{ data.ambito_code }}, {{ data.period }})",
        "Il target dell'indicatore {{ data.indicator_code }} - {{ data.indicator_name }} "
        "per {{ data.territory_code }} nel periodo {{ data.period }} è {{ data.status }}.\n"
        "Valore: {{ data.value }}{% if data.unit %} {{ data.unit }}{% endif %}; "
        "target: {{ data.target_value }}.",
        "Target at risk: {{ data.indicator_code }} ({{ data.ambito_code }}, {{ data.period }})",
        "The target of indicator {{ data.indicator_code }} - {{ data.indicator_name }} "
        "for {{ data.territory_code }} in period {{ data.period }} is {{ data.status }}.\n"
        "Value: {{ data.value }}{% if data.unit %} {{ data.unit }}{% endif %}; "
        "target: {{ data.target_value }}.",
    ),
    (
        PLAN_PUBLISHED,
        "Piano di Zona {{ data.cycle_start_year }}-{{ data.cycle_end_year }} pubblicato "
        "({{ data.ambito_code }})",
        "È stato pubblicato il Piano di Zona dell'ambito {{ data.ambito_code }}: {{ data.title }} "
        "({{ data.code }}){% if data.valid_from %}, in vigore dal {{ data.valid_from }}"
        "{% endif %}.",
        "Piano di Zona {{ data.cycle_start_year }}-{{ data.cycle_end_year }} published "
        "({{ data.ambito_code }})",
        "The Piano di Zona of ambito {{ data.ambito_code }} was published: {{ data.title }} "
        "({{ data.code }}){% if data.valid_from %}, in force from {{ data.valid_from }}"
        "{% endif %}.",
    ),
    (
        DIGEST_KEY,
        "Riepilogo: {{ items | length }} notifiche",
        "Ecco le notifiche del periodo:\n{% for item in items %}\n- {{ item.subject }}\n"
        "  {{ item.body | replace('\\n', '\\n  ') }}\n{% endfor %}",
        "Digest: {{ items | length }} notifications",
        "Here are the notifications of the period:\n{% for item in items %}\n- {{ item.subject }}\n"
        "  {{ item.body | replace('\\n', '\\n  ') }}\n{% endfor %}",
    ),
]


def _templates() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, subject_it, body_it, subject_en, body_en in _TEXTS:
        channels = ["email"] if key == DIGEST_KEY else ["email", "inbox"]
        for channel in channels:
            for language, subject, body in (
                ("it", subject_it, body_it),
                ("en", subject_en, body_en),
            ):
                rows.append(
                    {
                        "id": uuid.uuid5(_NS, f"template:{key}:{channel}:{language}"),
                        "key": key,
                        "channel": channel,
                        "language": language,
                        "subject": subject,
                        "body": body,
                        "description": "Modello predefinito",
                        "is_default": True,
                        "version": 1,
                    }
                )
    return rows


TEMPLATES: list[dict[str, Any]] = _templates()


async def seed(session: AsyncSession) -> None:
    """Inserts the default rules and templates that are missing (never overwrites edits)."""
    from pdz_notifications.rules.models import Rule
    from pdz_notifications.templates.models import Template

    stamp = {"created_at": utcnow(), "updated_at": utcnow()}
    rules = [{**r, **stamp} for r in RULES]
    templates = [{**t, **stamp} for t in TEMPLATES]
    await session.execute(insert(Rule).values(rules).on_conflict_do_nothing())
    await session.execute(insert(Template).values(templates).on_conflict_do_nothing())
