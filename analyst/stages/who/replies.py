"""The shapes the who's-who calls reply in: entities with cited roles, relations and dated
events (the first call), the names it left out, the roles given again."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from analyst.schema import RelationKind
from analyst.stages.replies import Strict


class CitedRole(Strict):
    """A role of a person or organisation as one numbered sentence of the article states it."""

    role: str = Field(
        min_length=1,
        description="the role in the article's words",
        json_schema_extra={"maxLength": 120},  # runaway guards for servers that enforce them
    )
    sentence: int = Field(description="the number of the sentence that states the role")


class WhoEntity(Strict):
    """A person, organisation, product or place that matters to the story."""

    name: str = Field(
        min_length=1,
        description="its fullest name in the article",
        json_schema_extra={"maxLength": 80},
    )
    type: Literal["person", "organisation", "product", "place"]
    aliases: list[str] = Field(
        description="other names the article uses for it", json_schema_extra={"maxItems": 2}
    )
    # Unbounded, the 1.5B model wrote roles until max_tokens, doubled twice (4,800 tokens).
    roles: list[CitedRole] = Field(json_schema_extra={"maxItems": 2})


class CitedEvent(Strict):
    """A dated event as one numbered sentence of the article states it."""

    date: str = Field(
        min_length=1,
        description="the date exactly as the sentence writes it",
        json_schema_extra={"maxLength": 40},
    )
    event: str = Field(
        min_length=1,
        description="what happened, in one short sentence",
        json_schema_extra={"maxLength": 160},
    )
    who: list[str] = Field(
        description="names of the people or organisations involved",
        json_schema_extra={"maxItems": 3},
    )
    sentence: int = Field(description="the number of the sentence that states the event")


class CitedRelation(Strict):
    """A relation between two entities as one numbered sentence of the article states it."""

    subject: str = Field(min_length=1, json_schema_extra={"maxLength": 80})
    relation: RelationKind
    object: str = Field(min_length=1, json_schema_extra={"maxLength": 80})
    sentence: int = Field(description="the number of the sentence that states the relation")


WHO_PER_CALL = 5
ENTITIES_PER_CALL = 8  # the people and organisations named more than once, in most articles
RELATIONS_PER_CALL = 4


class WhoWhen(Strict):
    """The reply to the who's-who-and-timeline call."""

    entities: list[WhoEntity] = Field(json_schema_extra={"maxItems": ENTITIES_PER_CALL})
    relations: list[CitedRelation] = Field(json_schema_extra={"maxItems": RELATIONS_PER_CALL})
    events: list[CitedEvent] = Field(json_schema_extra={"maxItems": WHO_PER_CALL})


class NameKind(Strict):
    """What the article uses a name for."""

    name: str
    type: Literal["person", "organisation", "place", "other"]


class NameKinds(Strict):
    """The reply to the names call (``stages.who``): the names the first list left out."""

    names: list[NameKind]


class RoleAgain(Strict):
    """A dropped role given again, with the sentence that states it."""

    name: str = Field(description="the entity's name, as the first reply gave it")
    role: str = Field(min_length=1, json_schema_extra={"maxLength": 120})
    sentence: int


class RolesAgain(Strict):
    """The reply to the roles re-ask (``stages.who``)."""

    roles: list[RoleAgain]
