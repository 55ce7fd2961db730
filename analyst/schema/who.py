"""Who's who and the timeline in a report (``--who``, ``stages/who``): entities with their roles,
the relations the article states, dated events — each with the sentence that proves it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from analyst.text.quotes import MatchKind

RelationKind = Literal[
    "leads", "works for", "joins", "leaves", "owns", "competes with", "partners with"
]


class Role(BaseModel):
    """A role the article gives an entity, with the sentence that states it."""

    text: str
    evidence: str
    start: int
    end: int
    match: MatchKind = MatchKind.EXACT


class Entity(BaseModel):
    """A person, organisation, product or place of the story, and its roles as stated."""

    id: str
    name: str
    type: Literal["person", "organisation", "product", "place"]
    aliases: list[str] = Field(
        default_factory=list, description="other names the article uses for it (each found)"
    )
    mentions: int = Field(description="how often the name or an alias occurs in the article")
    roles: list[Role] = Field(default_factory=list)


class Relation(BaseModel):
    """A relation between two entities of the story, with the sentence that states it."""

    subject: str = Field(description="the id of the entity the relation starts from")
    relation: RelationKind
    object: str = Field(description="the id of the entity it points to")
    evidence: str
    start: int
    end: int


class Event(BaseModel):
    """A dated event of the story, with the sentence that states it."""

    id: str
    date: str = Field(description="ISO 8601 at the precision the article gives: 2023, 2023-09, ...")
    date_text: str = Field(description="the date as the article writes it")
    date_source: Literal["stated", "relative"] = Field(
        description="stated in the sentence, or resolved from a relative expression ('on "
        "Tuesday', 'last month') against the article's own date"
    )
    event: str
    entities: list[str] = Field(default_factory=list, description="ids of the entities involved")
    evidence: str
    start: int
    end: int
