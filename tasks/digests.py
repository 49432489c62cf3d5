"""The weekly digests (issue 16): one per coordinator address and ISO week across every active
revision it follows, and one per party address listing what it owes in the next 30 days, through the outbox (key `digest:ADDRESS:YYYY-Www`, unique: a sweep killed
and run again enqueues none twice). Opt-outs: `digestoptout` (`avtaleflyt mail optout`)."""

from __future__ import annotations

import datetime as dt

from avtaleflyt.models import digests as rules
from avtaleflyt.models import letters as lt
from avtaleflyt.models.enums import EmailEvent, RevisionStatus, StageStatus
from avtaleflyt.models.tables import (
    DigestOptOut,
    OutboxMessage,
    Party,
    PartyObligation,
    Revision,
    Stage,
)
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from avtaleflyt.db import session_scope
from avtaleflyt.settings import get_settings

from . import compose, links, outbox
from . import letter_parts as parts

_SALT = "digest-optout"


def optout_token(secret: str, address: str, language: str) -> str:
    """The signed token of a digest's opt-out link: the address and the page's language."""
    return URLSafeSerializer(secret, salt=_SALT).dumps([rules.address_of(address), str(language)])


def read_optout_token(secret: str, token: str) -> tuple[str, str] | None:
    """(address, language) of a token `optout_token` made; None for anything else."""
    try:
        address, language = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return (address, language) if isinstance(address, str) and language in ("nb", "nn") else None


def optout_url(address: str, language: str) -> str:
    settings = get_settings()
    return f"{settings.public_url.rstrip('/')}/avmelding/{optout_token(settings.signing_key(), address, language)}"


def opted_out(session: Session) -> set[str]:
    return set(session.exec(select(DigestOptOut.address)).all())


def opt_out(session: Session, address: str, *, source: str = "cli") -> bool:
    """`address` gets no digest from now on; False when it had opted out already."""
    address = rules.address_of(address)
    if session.get(DigestOptOut, address) is not None:
        return False
    session.add(DigestOptOut(address=address, source=source))
    session.flush()
    return True


def opt_in(session: Session, address: str) -> bool:
    """`address` gets its digest again; False when it had not opted out."""
    row = session.get(DigestOptOut, rules.address_of(address))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def coordinator_digests(session: Session, as_of: dt.date) -> list[OutboxMessage]:
    """One digest per coordinator address of the active revisions, listing each revision it
    follows in time order; none to an opted-out address, none composed again once the outbox holds it."""
    active = session.exec(select(Revision).where(Revision.status == RevisionStatus.active).order_by(Revision.slug)).all()
    by_id = {r.id: r for r in active}
    everyone = rules.recipients(((r.id, r.slug, r.coordinators or ()) for r in active), opted_out(session))
    keys = {r.address: rules.digest_key(r.address, as_of) for r in everyone}
    held = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(keys.values())))).all()) if keys else set()
    parts_of: dict[int, lt.DigestRevision] = {}
    letters = []
    for recipient in everyone:
        if keys[recipient.address] in held:
            continue
        for rid in recipient.revision_ids:
            if rid not in parts_of:
                parts_of[rid] = compose.revision_digest(session, by_id[rid], as_of)
        first = by_id[recipient.revision_ids[0]]  # its language and sender: the first plan (by slug) naming the address
        context = lt.WeeklyDigest(
            recipient.name, as_of, rules.in_time_order(parts_of[rid] for rid in recipient.revision_ids), compose.DIGEST_HORIZON_DAYS,
            optout_url=optout_url(recipient.address, first.language),
        )
        message = parts.message(first, EmailEvent.weekly_digest, first.language, context, key=keys[recipient.address], to_name=recipient.name, to_address=recipient.email)
        message.revision_id = None  # about several revisions: not one revision's letter
        letters.append(message)
    return letters


def party_digests(session: Session, as_of: dt.date) -> list[OutboxMessage]:
    """One digest per party address that owes something in the next 30 days (or late) across every
    active revision: each item with the party's own link in that revision, soonest first; in the
    language of the party's row in the first revision (by slug); none when nothing is due."""
    rows = session.exec(
        select(Revision, Stage, Party, PartyObligation)
        .join(Stage, col(Stage.revision_id) == Revision.id)
        .join(PartyObligation, col(PartyObligation.stage_id) == Stage.id)
        .join(Party, col(Party.id) == PartyObligation.party_id)
        .where(Revision.status == RevisionStatus.active, Stage.status == StageStatus.active, col(Party.active).is_(True))
        .order_by(Revision.slug, Stage.position)
    ).all()
    skip = opted_out(session)
    owed: dict[str, list[tuple[Revision, Stage, Party, tuple]]] = {}
    for revision, stage, party, obligation in rows:
        address = rules.address_of(party.email)
        if address not in skip and (due := rules.party_owes(stage, obligation, as_of)) is not None:
            owed.setdefault(address, []).append((revision, stage, party, due))
    keys = {address: f"{rules.digest_key(address, as_of)}:party" for address in owed}
    held = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(keys.values())))).all()) if keys else set()
    todo = sorted((address, items) for address, items in owed.items() if keys[address] not in held)
    wanted = [(p.id, f"{keys[address]}/{revision.slug}") for address, items in todo for revision, _, p, _ in items]
    # the parties' links read in two queries and the new ones inserted together, as the sweep's reminders do
    with session.no_autoflush, links.batch(session, get_settings().signing_key(), wanted):
        return [_party_letter(session, address, items, keys[address], as_of) for address, items in todo]


def _party_letter(session: Session, address: str, items: list, key: str, as_of: dt.date) -> OutboxMessage:
    first_revision, _, party, _ = items[0]
    listed = sorted(
        (
            lt.PartyDigestItem(
                lt.written_deadline(deadline), kind, parts.title(stage), parts.revision_ref(revision),
                parts.report_url(session, revision, p, f"{key}/{revision.slug}"), overdue,
            )
            for revision, stage, p, (deadline, kind, overdue) in items
        ),
        key=lambda i: (i.when, i.revision.slug),
    )
    context = lt.PartyDigest(parts.revision_ref(first_revision), parts.party_ref(party), as_of, tuple(listed), rules.PARTY_HORIZON_DAYS,
                             optout_url=optout_url(address, party.language))
    message = parts.message(first_revision, EmailEvent.party_digest, party.language, context, key=key, to_name=party.name, to_address=party.email)
    message.revision_id = None  # about several revisions, maybe; its party row is one revision's
    return message


def enqueue_digests(as_of: dt.date, engine: Engine | None = None) -> int:
    """The week's digests (coordinators' and parties') into the outbox, in one transaction; how many were new."""
    with session_scope(engine) as session:
        letters = coordinator_digests(session, as_of) + party_digests(session, as_of)
        session.flush()  # the party links issued for them, before the letters naming them
        return outbox.enqueue_all(session, letters)
