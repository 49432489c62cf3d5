"""The dashboard stays up under a login flood: `python -m avtaleflyt.dashboard` (uvicorn)
on loopback, real HTTP from this process.

argon2 takes a core for tens of milliseconds (hundreds on a loaded machine). Run on
the event loop, fifty of them stop every other request for seconds; run in threads
of their own at a lower priority, and throttled per address and account, they leave
`/healthz` answering at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.tables import AccountEvent

from .web import form_token, served

FLOOD = 50
TODAY = dt.date(2025, 2, 10)

pytestmark = pytest.mark.timeout(180)


async def flood_and_probe(base_url: str) -> tuple[list[float], list[int], int]:
    """Fifty bad logins at once; /healthz asked every 50 ms until all fifty are answered.

    Returns the health probes' times, the logins' status codes, and how many probes
    ran while logins were still unanswered.
    """
    limits = httpx.Limits(max_connections=FLOOD + 10, max_keepalive_connections=FLOOD + 10)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as attacker, httpx.AsyncClient(base_url=base_url, timeout=30) as probe:
        token = form_token((await attacker.get("/login")).text)
        logins = [
            asyncio.create_task(attacker.post("/login", data={"csrf_token": token, "username": f"ukjent{i}", "password": "feil passord nummer %d" % i}))
            for i in range(FLOOD)
        ]
        times, during = [], 0
        while True:
            pending = sum(not t.done() for t in logins)
            started = time.perf_counter()
            answer = await probe.get("/healthz")
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200 and answer.json() == {"status": "ok"}
            during += pending > 0
            if not pending:
                break
            await asyncio.sleep(0.05)
        codes = [(await t).status_code for t in logins]
    return times, codes, during


@pytest.mark.alone  # its bound is in seconds: four xdist workers starting Prefect runs on two cores made it 2.6 s once
def test_healthz_answers_within_a_second_while_fifty_bad_logins_run(domain_db_url, tmp_path):
    from avtaleflyt.stack import free_port, start_dashboard

    engine = engine_for(domain_db_url)  # migrated before the server starts
    port = free_port()
    server = start_dashboard(tmp_path / "data", port, {"AVTALEFLYT_DATABASE_URL": domain_db_url, "AVTALEFLYT_DATA_DIR": str(tmp_path / "data")})
    try:
        times, codes, during = asyncio.run(flood_and_probe(f"http://127.0.0.1:{port}"))
    finally:
        server.stop()
    print(f"healthz: {len(times)} probes, {during} during the flood, slowest {max(times):.3f} s; logins: {sorted(set(codes))}")
    assert during >= 3, "the probes did not overlap the flood"
    assert max(times) < 1.0, f"/healthz took {max(times):.2f} s during the flood"
    assert set(codes) <= {401, 429} and codes.count(429) > 0, codes
    with session_scope(engine) as s:
        actions = [e.action for e in s.exec(select(AccountEvent))]
    assert actions.count("login.failed") == codes.count(401)
    assert "login.throttled" in actions  # the address was held back, and the log says so


def test_behind_a_proxy_each_client_address_is_throttled_on_its_own(domain_db_url):
    """From the trusted proxy (127.0.0.1), X-Forwarded-For names the client: one guesser does not make everyone wait."""
    from avtaleflyt.dashboard.throttle import ADDRESS

    engine = engine_for(domain_db_url)
    with served(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")) as base_url, httpx.Client(base_url=base_url, timeout=120) as client:
        token = form_token(client.get("/login").text)

        def attempt(i: int, client_address: str) -> int:
            return client.post(
                "/login", data={"csrf_token": token, "username": f"ukjent{i}", "password": "feil passord her"}, headers={"X-Forwarded-For": client_address}
            ).status_code

        assert [attempt(i, "203.0.113.7") for i in range(ADDRESS.free)] == [401] * ADDRESS.free
        assert attempt(99, "203.0.113.7") == 429  # the guesser waits
        assert attempt(100, "198.51.100.2") == 401  # someone else does not
    with session_scope(engine) as s:
        ips = {e.ip for e in s.exec(select(AccountEvent).where(AccountEvent.action == "login.failed"))}
    assert ips == {"203.0.113.7", "198.51.100.2"}
