"""The reliability rig's pure logic: fault-window accounting, the verifier's ledger, the call mix, the HAProxy
configuration, and the fault proxy on loopback in front of a tiny echo server."""

import asyncio
import math
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# evals/perf and evals/reliability are folders of scripts importing each other by bare name (not packages): put
# them on the path last, so their module names cannot shadow anything installed.
EVALS = Path(__file__).resolve().parents[2] / "evals"
for folder in (str(EVALS / "perf"), str(EVALS / "reliability")):
    if folder not in sys.path:
        sys.path.append(folder)

from cluster import haproxy_config  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from ledger import DatabaseFacts, check_ledger  # noqa: E402
from loadgen import Endpoint  # noqa: E402
from windows import QUIET, Attempt, CallRecord, FaultWindow, recovery_s, window_figures, window_of  # noqa: E402
from workload import Connection  # noqa: E402


def call(key: str, *outcomes: tuple[float, bool], kind: str = "update_lead", tenant: str = "t1") -> CallRecord:
    """A call whose attempts start at the given times, each lasting 0.1 s, ok or not."""
    record = CallRecord(kind=kind, tenant=tenant, key=key, subject=f"{key}@rig.example")
    record.attempts = [Attempt(start, start + 0.1, ok, None if ok else "boom") for start, ok in outcomes]
    return record


# --------------------------------------------------------------------------- windows


def test_a_fault_window_counts_until_ten_seconds_after_the_fault_ends() -> None:
    faults = [FaultWindow("kill", 10.0, 15.0)]
    assert window_of(9.9, faults) == QUIET
    assert window_of(10.0, faults) == "kill"
    assert window_of(24.9, faults) == "kill"
    assert window_of(25.0, faults) == QUIET
    assert window_of(9.0, faults, end=10.5) == "kill"  # in flight when the fault hit
    assert window_of(9.0, faults, end=9.9) == QUIET


def test_recovery_is_when_a_second_of_attempts_all_succeed() -> None:
    fault = FaultWindow("restart", 10.0, 12.0)
    attempts = [
        Attempt(11.0, 11.5, False),  # during the fault: not recovery
        Attempt(12.2, 12.3, False),
        Attempt(13.0, 13.1, True),
        Attempt(13.2, 13.3, False),  # started within a second of the last failure's end: still recovering
        Attempt(14.2, 14.3, True),
        Attempt(16.0, 16.1, False),  # after a clean second (13.3-14.3): a new, unrelated failure
    ]
    assert recovery_s(fault, attempts, horizon_s=100.0) == pytest.approx(1.3)


def test_recovery_ignores_failures_past_the_horizon() -> None:
    fault = FaultWindow("restart", 10.0, 12.0)
    attempts = [Attempt(12.5, 12.6, True), Attempt(12.9, 13.0, False)]
    assert recovery_s(fault, attempts, horizon_s=0.5) == 0.0
    assert recovery_s(fault, attempts, horizon_s=5.0) == pytest.approx(1.0)


def test_window_figures_split_first_attempt_errors_from_final_failures() -> None:
    faults = [FaultWindow("kill", 10.0, 12.0)]
    calls = [
        call("a", (1.0, True)),
        call("b", (2.0, False), (2.5, True)),  # quiet, failed once, acknowledged
        call("c", (11.0, False), (11.5, False)),  # in the fault window, never acknowledged
        call("d", (12.0, False), (13.0, True)),
        call("e", (30.0, True)),
    ]
    kill, quiet = window_figures(calls, faults, load_s=40.0)
    assert (kill.name, kill.calls, kill.first_attempt_errors, kill.final_failures) == ("kill", 2, 2, 1)
    assert kill.seconds == 12.0  # 2 s of fault plus the 10 s recovery allowance
    assert kill.recovery_s == pytest.approx(0.1)  # d's first attempt failed at 12.0-12.1, then all succeeded
    assert (quiet.name, quiet.calls, quiet.first_attempt_errors, quiet.final_failures) == (QUIET, 3, 1, 0)
    assert quiet.first_attempt_error_rate == pytest.approx(1 / 3)
    assert quiet.seconds == 28.0
    assert kill.p99_ms == pytest.approx(1100.0)  # d: first attempt at 12.0, acknowledged at 13.1
    assert quiet.recovery_s is None
    assert kill.error_samples == {"boom": 2}


def test_a_window_without_acknowledged_calls_has_no_p99() -> None:
    (quiet,) = window_figures([call("a", (1.0, False))], [], load_s=5.0)
    assert math.isnan(quiet.p99_ms)


# --------------------------------------------------------------------------- ledger


def facts(
    audit: dict[tuple[str, str], dict[str, int]],
    emails: dict[tuple[str, str], int] | None = None,
    touches: dict[tuple[str, str], int] | None = None,
) -> DatabaseFacts:
    return DatabaseFacts(audit=audit, contacts_by_email=emails or {}, touches_by_lead=touches or {})


def test_a_clean_ledger_passes() -> None:
    capture = call("k1", (1.0, True), kind="capture")
    capture.result_id = "lead_1"
    update = call("k2", (2.0, False), (2.5, True))
    report = check_ledger(
        [capture, update],
        facts(
            {("t1", "k1"): {"crm.create_contact": 1, "crm.capture_lead": 1}, ("t1", "k2"): {"crm.update_lead": 1}},
            emails={("t1", "k1@rig.example"): 1},
            touches={("t1", "lead_1"): 1},
        ),
    )
    assert report.ok
    assert (report.acknowledged, report.unacknowledged) == (2, 0)


def test_an_acknowledged_call_without_an_audit_entry_is_lost() -> None:
    report = check_ledger([call("k1", (1.0, True))], facts({}))
    assert not report.ok
    assert report.lost == ["t1/k1 (update_lead k1@rig.example): acknowledged, no audit entry carries its key"]


def test_an_action_audited_twice_for_one_key_is_a_duplicate() -> None:
    report = check_ledger([call("k1", (1.0, True))], facts({("t1", "k1"): {"crm.update_lead": 2}}))
    assert report.duplicated and not report.lost


def test_a_capture_whose_lead_has_two_touches_was_applied_twice() -> None:
    capture = call("k1", (1.0, True), kind="capture")
    capture.result_id = "lead_1"
    report = check_ledger(
        [capture],
        facts(
            {("t1", "k1"): {"crm.capture_lead": 1}},
            emails={("t1", "k1@rig.example"): 1},
            touches={("t1", "lead_1"): 2},
        ),
    )
    assert report.duplicated == ["t1/k1 (capture k1@rig.example): lead lead_1 has 2 touches"]


def test_a_new_contact_missing_from_the_table_is_lost() -> None:
    create = call("k1", (1.0, True), kind="create_contact")
    report = check_ledger([create], facts({("t1", "k1"): {"crm.create_contact": 1}}))
    assert report.lost == ["t1/k1 (create_contact k1@rig.example): 0 contacts with its e-mail"]


def test_effects_of_unacknowledged_calls_are_listed_and_unknown_keys_are_phantoms() -> None:
    failed = call("k1", (1.0, False), (2.0, False))
    audit = {("t1", "k1"): {"crm.update_lead": 1}, ("t2", "k9"): {"crm.update_lead": 1}}
    report = check_ledger([failed], facts(audit))
    assert report.applied_unacknowledged == ["t1/k1 (update_lead)"]
    assert report.phantom == ["t2/k9"]
    assert report.unacknowledged == 1
    assert not report.ok  # a phantom is an effect nobody asked for


# --------------------------------------------------------------------------- call mix and HAProxy


def test_the_call_mix_updates_only_what_the_connection_created() -> None:
    connection = Connection(Endpoint("127.0.0.1", 1, "/mcp"), index=3, tenant="t1", token="x")
    kinds: list[str] = []
    keys: set[str] = set()
    for _ in range(20):
        record, tool, arguments = connection.next_call()
        kinds.append(record.kind)
        keys.add(arguments["idempotency_key"])
        assert tool.startswith("crm_")
        if record.kind == "capture":
            connection.remember(
                record, {"structuredContent": {"lead": {"id": f"lead_{len(kinds)}"}, "contact": {"id": "c_1"}}}
            )
        if record.kind in ("update_lead", "update_contact"):
            assert record.subject in (connection.leads + connection.contacts)
    assert len(keys) == 20  # one key per logical call
    assert {"capture", "create_contact", "update_lead", "update_contact"} <= set(kinds)


def test_haproxy_checks_readiness_with_a_host_header_and_lists_every_replica() -> None:
    config = haproxy_config(8080, [9001, 9002, 9003])
    assert "bind 127.0.0.1:8080" in config
    assert "uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1" in config
    assert "option redispatch" in config
    for index, port in enumerate((9001, 9002, 9003)):
        assert f"server r{index} 127.0.0.1:{port} check" in config


# --------------------------------------------------------------------------- fault proxy


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()


async def roundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 5)
    finally:
        writer.close()


async def test_the_proxy_forwards_both_ways(echo_port: int) -> None:
    proxy = FaultProxy(echo_port)
    port = await proxy.start()
    try:
        assert await roundtrip(port, b"hello") == b"hello"
        assert proxy.accepted == 1
    finally:
        await proxy.stop()


async def test_latency_delays_each_direction(echo_port: int) -> None:
    proxy = FaultProxy(echo_port)
    port = await proxy.start()
    proxy.latency_s = 0.1
    try:
        started = time.monotonic()
        assert await roundtrip(port, b"slow") == b"slow"
        assert time.monotonic() - started >= 0.2  # request and answer each waited
    finally:
        await proxy.stop()


async def test_drop_all_cuts_open_connections_and_refusing_closes_new_ones(echo_port: int) -> None:
    proxy = FaultProxy(echo_port)
    port = await proxy.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), 5) == b"ping"
        proxy.refusing = True
        assert proxy.drop_all() == 1
        assert await asyncio.wait_for(reader.read(10), 5) == b""  # the open link was cut
        writer.close()
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await roundtrip(port, b"refused")
        assert proxy.refused == 1
        proxy.refusing = False
        assert await roundtrip(port, b"back") == b"back"
    finally:
        await proxy.stop()
    assert proxy.open_links == 0
