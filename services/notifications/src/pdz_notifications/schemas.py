"""Field types shared by the notifications API schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

CODE = r"^[A-Za-z0-9._-]{1,50}$"
SUB = r"^[A-Za-z0-9._:@|-]{1,200}$"
EVENT_TYPE = r"^(\*|[a-z0-9][a-z0-9._-]{0,199})$"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,255}$"

Language = Literal["it", "en"]
RuleChannel = Literal["email", "inbox"]
ChannelName = Literal["email", "inbox", "webhook"]
RoleName = Literal[
    "platform_admin",
    "udp_admin",
    "udp_viewer",
    "pua_operator",
    "social_worker",
    "uvm_member",
    "asst_system",
    "cartella_sociale_system",
]
Code = Annotated[str, Field(pattern=CODE)]
EventType = Annotated[str, Field(pattern=EVENT_TYPE, max_length=200)]
