"""`/healthz`: for a load balancer or `up`'s check."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def health() -> dict[str, str]:
    """On the event loop, touching nothing: it answers while every thread is busy."""
    return {"status": "ok"}
