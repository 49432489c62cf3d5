"""The building blocks of the plan file's schema, shared by models/plan.py and the stage
kinds' own schemas (models/stages/<kind>.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool, StrictStr, ValidationError, model_validator

from . import limits
from .dates import PlanDate

KEY_PATTERN = re.compile(r"^[A-Za-z0-9ÆØÅæøå][A-Za-z0-9ÆØÅæøå_.-]*$")


def _plan_date(value: Any) -> PlanDate:
    return PlanDate.parse(value)


DateField = Annotated[PlanDate, BeforeValidator(_plan_date), PlainSerializer(str, return_type=str)]
Key = Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_KEY, pattern=KEY_PATTERN.pattern)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_NAME), AfterValidator(limits.one_line)]
Title = Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_TITLE), AfterValidator(limits.one_line)]
Text = Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_TEXT)]


MAX_WEB_ADDRESS = 2000


def _check_web_address(value: Any) -> str:
    from urllib.parse import urlsplit

    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text) if len(text) <= MAX_WEB_ADDRESS and text.isprintable() and " " not in text else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not a web address: give one starting with https:// (or http://)")
    return text


WebAddress = Annotated[str, BeforeValidator(_check_web_address)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, defer_build=True)


class Titles(Strict):
    """A title in both languages, `{nb: …, nn: …}`; one of the two may be missing."""

    nb: Title | None = None
    nn: Title | None = None

    @model_validator(mode="after")
    def _one_given(self) -> Titles:
        if self.nb is None and self.nn is None:
            raise ValueError("give the title in bokmål (nb:), nynorsk (nn:) or both")
        return self


def split_titles(data: Any, field: str, nn_field: str) -> Any:
    """A `{nb, nn}` title as the field (bokmål, else nynorsk) and `nn_field` (nynorsk or None);
    a plain string stays as it is, and so does a wrong mapping (the field's `Titled` names its
    problem at its place). For a model's `mode="before"` validator."""
    if isinstance(data, dict) and isinstance(data.get(field), dict):
        try:
            titles = Titles.model_validate(data[field])
        except ValidationError:
            return data
        data = {**data, field: titles.nb or titles.nn, nn_field: titles.nn}
    return data


def _wrong_titles(value: Any) -> Any:
    if isinstance(value, dict):
        Titles.model_validate(value)  # raises: a right one was split before (its errors nest under the field)
    return value


Titled = Annotated[Title, BeforeValidator(_wrong_titles)]
TitledText = Annotated[Text, BeforeValidator(_wrong_titles)]


def titles_validator(field: str, nn_field: str) -> Any:
    """A model's `mode="before"` validator reading `field` as `{nb, nn}` (`split_titles`)."""
    return model_validator(mode="before")(classmethod(lambda cls, data: split_titles(data, field, nn_field)))



@dataclass(frozen=True)
class PlanProblem:
    place: str  # `parties[3].org_number`
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.place}: {self.message}"


@dataclass(frozen=True)
class PlanContext:
    """What a stage's own checks may look at in the rest of the plan."""

    documents: frozenset[str]
    forums: frozenset[str]
    parties: frozenset[str] = frozenset()  # their names


def unknown_documents(place: str, keys: list[str] | None, plan: PlanContext) -> list[PlanProblem]:
    """A problem for each document a stage names that the plan does not list."""
    return [
        PlanProblem(f"{place}.documents[{j}]", f"unknown document {doc!r}; known: {', '.join(sorted(plan.documents))}")
        for j, doc in enumerate(keys or [])
        if doc not in plan.documents
    ]


class StageSpecBase(Strict):
    """What every stage of the plan has; each kind adds its own fields (and its `kind` literal)."""

    key: Key
    title: Titled | None = None
    title_nn: Title | None = Field(default=None, description="the nynorsk title (`title: {nb: …, nn: …}`)")
    after: list[Key] | None = Field(
        default=None, description="stages that must be done first; defaults to the stage before"
    )
    moves_with_after: StrictBool | None = Field(
        default=None, description="when a stage it comes after is shifted, its dates move by as many days (default: the plan's)"
    )

    @model_validator(mode="before")
    @classmethod
    def _titles(cls, data: Any) -> Any:
        return split_titles(data, "title", "title_nn")

    def problems(self, place: str, plan: PlanContext) -> list[PlanProblem]:
        """The kind's own checks against the rest of the plan."""
        return []

    def columns(self, all_documents: list[str]) -> dict[str, Any]:
        """The kind's own columns of the stage row (documents, forums, required), defaults filled in."""
        return {"documents": [], "forums": [], "required": None}
