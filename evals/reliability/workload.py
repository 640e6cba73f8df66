"""The rig's load: mutating CRM calls over the load balancer, each with an idempotency key, retried until acknowledged.

Built on the perf benchmark's raw-socket client (evals/perf/loadgen.py: ``ToolSession``, one request in flight
per keep-alive connection). Each connection sends as one tenant (its bearer token) and cycles through a mix of
new-contact and update calls; a failed attempt is retried with the same key and the same arguments after a
short backoff, as the README tells agents, until it is acknowledged or its retry budget runs out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loadgen import Endpoint, Protocol, ToolSession
from windows import Attempt, CallRecord
from wire import REQUEST_TIMEOUT_S, CallOutcome, JsonObject, ProtocolError, clip

# Out of every 10 calls of a connection: 5 captures, 2 new contacts, 2 lead updates, 1 contact update.
MIX = ("capture", "capture", "create_contact", "update_lead", "capture", "capture", "create_contact", "update_lead",
       "capture", "update_contact")  # fmt: skip
TOOLS = {
    "capture": "crm_capture_lead",
    "create_contact": "crm_create_contact",
    "update_lead": "crm_update_lead",
    "update_contact": "crm_update_contact",
}
FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 2.0
RETRY_BUDGET_S = 60.0
WATCHDOG_PERIOD_S = 0.5


@dataclass(slots=True)
class LoadState:
    """Shared by every connection: how many calls may still start, when to stop, and what happened."""

    calls_left: int
    deadline: float  # monotonic
    t0: float  # monotonic time the load started; attempts are recorded relative to it
    calls: list[CallRecord] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.t0


class Connection:
    """One keep-alive connection sending as one tenant, remembering the leads and contacts it created."""

    def __init__(self, endpoint: Endpoint, index: int, tenant: str, token: str) -> None:
        self.index = index
        self.tenant = tenant
        self.session = ToolSession(endpoint, Protocol.MODERN, {"Authorization": f"Bearer {token}"})
        self.sequence = 0
        self.leads: list[str] = []
        self.contacts: list[str] = []

    def next_call(self) -> tuple[CallRecord, str, JsonObject]:
        """The next call of this connection's mix: (ledger record, tool, arguments with the key)."""
        self.sequence += 1
        kind = MIX[self.sequence % len(MIX)]
        key = f"rig-{self.index}-{self.sequence}"
        if kind == "update_lead" and not self.leads:
            kind = "capture"
        if kind == "update_contact" and not self.contacts:
            kind = "create_contact"
        arguments: JsonObject
        if kind == "capture":
            subject = f"lead-{self.index}-{self.sequence}@rig.example"
            arguments = {
                "email": subject,
                "source_channel": "web_form",
                "first_name": "Rig",
                "utm": {"source": "google", "medium": "cpc", "campaign": "rig"},
            }
        elif kind == "create_contact":
            subject = f"contact-{self.index}-{self.sequence}@rig.example"
            arguments = {"email": subject, "first_name": "Rig", "last_name": f"C{self.sequence}"}
        elif kind == "update_lead":
            subject = self.leads[self.sequence % len(self.leads)]
            arguments = {"lead_id": subject, "owner": f"owner-{self.index}-{self.sequence}"}
        else:
            subject = self.contacts[self.sequence % len(self.contacts)]
            arguments = {"contact_id": subject, "title": f"Title {self.sequence}"}
        record = CallRecord(kind=kind, tenant=self.tenant, key=key, subject=subject)
        return record, TOOLS[kind], arguments | {"idempotency_key": key}

    def remember(self, record: CallRecord, result: JsonObject | None) -> None:
        """Keep the ids an acknowledged create named, for later updates (and the verifier)."""
        content = (result or {}).get("structuredContent") or {}
        if record.kind == "capture":
            record.result_id = str(content["lead"]["id"])
            self.leads.append(record.result_id)
            self.contacts.append(str(content["contact"]["id"]))
        elif record.kind == "create_contact":
            record.result_id = str(content["id"])
            self.contacts.append(record.result_id)


async def attempt_once(session: ToolSession, tool: str, arguments: JsonObject) -> CallOutcome:
    """One try; a broken connection is closed (the next try reconnects) and reported as an error outcome."""
    try:
        return await session.call(tool, arguments)
    except (OSError, EOFError, TimeoutError, ValueError, ProtocolError, asyncio.IncompleteReadError) as exc:
        session.close()
        return CallOutcome(False, clip(f"{type(exc).__name__}: {exc}"))


async def call_until_acknowledged(
    connection: Connection, state: LoadState, record: CallRecord, tool: str, arguments: JsonObject
) -> None:
    """Send, and on failure resend with the same key after a growing pause, within ``RETRY_BUDGET_S``."""
    backoff = FIRST_BACKOFF_S
    give_up = time.monotonic() + RETRY_BUDGET_S
    while True:
        start = state.now()
        outcome = await attempt_once(connection.session, tool, arguments)
        record.attempts.append(Attempt(start, state.now(), outcome.ok, outcome.error))
        if outcome.ok:
            try:
                connection.remember(record, outcome.result)
            except (KeyError, TypeError) as exc:
                record.attempts[-1] = Attempt(start, state.now(), False, f"unexpected answer: {exc!r}")
                return
            return
        if time.monotonic() + backoff > give_up:
            return
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


async def drive(connection: Connection, state: LoadState) -> None:
    """Make calls one after another until the calls run out or the deadline passes."""
    while state.calls_left > 0 and time.monotonic() < state.deadline:
        state.calls_left -= 1
        record, tool, arguments = connection.next_call()
        state.calls.append(record)
        await call_until_acknowledged(connection, state, record, tool, arguments)
    connection.session.close()


async def watchdog(connections: Sequence[Connection]) -> None:
    """Abort requests older than the load generator's timeout (the wire has no per-request timer)."""
    while True:
        await asyncio.sleep(WATCHDOG_PERIOD_S)
        limit = time.perf_counter() - REQUEST_TIMEOUT_S
        for connection in connections:
            connection.session.abort_if_stuck(limit)


async def run_load(
    endpoint: Endpoint, tokens: Mapping[str, str], connections: int, calls: int, max_seconds: float, t0: float
) -> LoadState:
    """Drive ``calls`` calls on ``connections`` connections (connection i as tenant i % len(tokens))."""
    tenants = sorted(tokens)
    pool = [
        Connection(endpoint, i, tenants[i % len(tenants)], tokens[tenants[i % len(tenants)]])
        for i in range(connections)
    ]
    state = LoadState(calls_left=calls, deadline=t0 + max_seconds, t0=t0)
    guard = asyncio.create_task(watchdog(pool))
    try:
        await asyncio.gather(*(drive(connection, state) for connection in pool))
    finally:
        guard.cancel()
    return state
