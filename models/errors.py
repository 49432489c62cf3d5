"""The one error every command raises when the rules refuse it.

A `DomainError` carries a `code` (what is wrong, from `ErrorCode`), the `field` of the
command it concerns (None: the command as a whole) and the `params` a front end needs to
word it. Its message is the CLI's English wording; the dashboard words the same code in
Norwegian (avtaleflyt/dashboard/errors.py). No front end reads the message to decide anything.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    refused = "refused"  # no more precise code fits
    required = "required"
    invalid_value = "invalid_value"
    too_long = "too_long"
    future_date = "future_date"
    # the revision and its stages
    no_revision = "no_revision"
    revision_exists = "revision_exists"
    revision_completed = "revision_completed"
    no_stage = "no_stage"
    wrong_stage_kind = "wrong_stage_kind"
    no_open_stage = "no_open_stage"
    several_open_stages = "several_open_stages"
    stage_not_started = "stage_not_started"
    stage_done = "stage_done"
    forum_not_in_stage = "forum_not_in_stage"
    # parties
    no_party = "no_party"
    party_not_owing = "party_not_owing"  # not invited to the hearing, no treatment row
    party_left = "party_left"
    already_answered = "already_answered"  # a different response or decision is recorded
    # plans
    plan_unchanged = "plan_unchanged"
    shift_refused = "shift_refused"
    # the run and the links
    prefect_unreachable = "prefect_unreachable"
    run_not_created = "run_not_created"
    link_invalid = "link_invalid"  # forged, changed or unknown
    link_spent = "link_spent"  # used, withdrawn, expired, or its party left
    # accounts
    bad_username = "bad_username"
    weak_password = "weak_password"
    user_exists = "user_exists"
    no_user = "no_user"
    # uploads (models/uploads.py)
    file_too_large = "file_too_large"
    bad_file_name = "bad_file_name"
    bad_url = "bad_url"
    unreadable_file = "unreadable_file"


class DomainError(ValueError):
    """A recording or command that the rules refuse; the message names the problem."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.refused, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""
