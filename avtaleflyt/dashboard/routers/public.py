"""The public status page of a revision whose plan says `public: true`: no login, no session.

`/offentlig/{slug}` (the page), `/offentlig/{slug}/feed.atom` (its decisions as an Atom feed) and
`/offentlig/{slug}/dokumenter/{key}/v{n}` (a version of a document the plan marks public). An
unknown slug, a revision that is not public and anything not public answer the same 404, so the
page does not tell whether a revision exists. What is shown: avtaleflyt/dashboard/public_view.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import uuid
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avtaleflyt.models import wording

from ..deps import EngineDep, SettingsDep
from ..public_view import PublicDecision, PublicPage, public_page, public_version
from .documents import content_disposition

router = APIRouter(include_in_schema=False)

PREFIX = "/offentlig/"
CACHE = "public, max-age=300"  # five minutes: a decision recorded shows soon enough
NOT_FOUND_CACHE = "public, max-age=60"
ATOM = "http://www.w3.org/2005/Atom"


class NoSession:
    """Under /offentlig/ the session cookie is neither read nor set: the answers are the same for
    everyone (a shared cache may keep them), and a visitor gets no cookie, on a 404 either."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"]}

        async def without_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"set-cookie"]
            await send(message)

        await self.app(scope, receive, without_cookie)


def _not_found(request: Request) -> Response:
    pages = request.app.state.templates
    return pages.TemplateResponse(
        request, "public_not_found.html", {"words": wording.words("public_page", "nb"), "lang": "nb"}, status_code=404,
        headers={"Cache-Control": NOT_FOUND_CACHE},
    )


@router.get("/offentlig/{slug}")
def public_status(slug: str, request: Request, engine: EngineDep) -> Response:
    with Session(engine) as session:
        page = public_page(session, slug)
    if page is None:
        return _not_found(request)
    pages = request.app.state.templates
    answer = pages.TemplateResponse(request, "public.html", {"page": page, "w": page.words(), "lang": page.language})
    return _cacheable(request, answer.body, answer.media_type or "text/html", page.updated)


@router.get("/offentlig/{slug}/feed.atom")
def public_feed(slug: str, request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    with Session(engine) as session:
        page = public_page(session, slug)
    if page is None:
        return _not_found(request)
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return _cacheable(request, atom_feed(page, base), "application/atom+xml; charset=utf-8", page.updated)


@router.get("/offentlig/{slug}/dokumenter/{key}/v{number:int}")
def public_document(slug: str, key: str, number: int, request: Request, engine: EngineDep) -> Response:
    with Session(engine) as session:
        found = public_version(session, slug, key, number)
    if found is None:
        return _not_found(request)
    version, stored = found
    if stored is None:
        return RedirectResponse(version.url, status_code=303, headers={"Cache-Control": CACHE})
    name = version.file_name or f"{key}-v{number}"
    return Response(stored.content, media_type=mimetypes.guess_type(name)[0] or "application/octet-stream", headers={
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": CACHE,
    })


def _cacheable(request: Request, body: bytes, media_type: str, updated: dt.datetime) -> Response:
    """The answer with an ETag of its bytes; 304 to a reader (a feed reader, a proxy) that has them."""
    tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": CACHE, "ETag": tag, "Last-Modified": _http_date(updated)}
    if tag in [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _http_date(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _atom_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _urn(base: str, path: str) -> str:
    """A stable id for the feed or an entry: the same across renders, corrections and caches."""
    return uuid.uuid5(uuid.NAMESPACE_URL, base + path).urn


def _entry_title(d: PublicDecision, language: str) -> str:
    day = f" {wording.short_date(d.decided_on, language)}" if d.decided_on else ""
    return f"{d.who}: {d.outcome_label}{day} ({d.stage})"


def atom_feed(page: PublicPage, base: str) -> bytes:
    """The decisions as Atom (RFC 4287): one entry per decision, newest first, titles in the page's language."""
    ET.register_namespace("", ATOM)
    w = page.words()
    url = f"{base}/offentlig/{page.slug}"
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": page.language})

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    add(feed, "id", _urn(base, f"/offentlig/{page.slug}"))
    add(feed, "title", w["feed_title"].format(title=page.title))
    add(feed, "subtitle", page.helsefellesskap)
    add(feed, "updated", _atom_time(page.updated))
    add(add(feed, "author"), "name", page.helsefellesskap)
    add(feed, "link", rel="alternate", type="text/html", href=url)
    add(feed, "link", rel="self", type="application/atom+xml", href=f"{url}/feed.atom")
    decisions = [d for d in page.party_decisions + page.forum_decisions if d.outcome is not None]
    newest_first = sorted(decisions, key=lambda d: (d.decided_on, d.recorded_at or page.updated), reverse=True)
    for d in newest_first:
        entry = add(feed, "entry")
        add(entry, "id", _urn(base, f"/offentlig/{page.slug}#{d.id}"))
        add(entry, "title", _entry_title(d, page.language))
        add(entry, "updated", _atom_time(d.recorded_at or page.updated))
        add(entry, "link", rel="alternate", type="text/html", href=d.records_url or url)
        lines = [f"{w['decision']}: {d.outcome_label}", f"{w['date']}: {wording.short_date(d.decided_on, page.language)}"]
        lines += [f"{w['case_no']}: {d.case_no}"] if d.case_no else []
        lines += [f"{w['reservations']}: {d.reservations}"] if d.reservations else []
        add(entry, "content", "\n".join(lines), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@router.get("/offentlig/{rest:path}")
def public_elsewhere(rest: str, request: Request) -> Response:
    """Any other address under /offentlig/: the same 404 as an unknown revision's."""
    return _not_found(request)
