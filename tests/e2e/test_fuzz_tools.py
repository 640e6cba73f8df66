"""Fuzz every listed tool over HTTP on PostgreSQL: no argument a client can send may cause an internal error.

One ``promptsales serve`` (deployed as documented: ``db upgrade`` first) on a fresh database. The official
``mcp`` client lists the tools; a raw JSON-RPC client (2026-07-28: headers plus ``_meta``, bodies built by hand
so lone surrogates travel as ``\\ud800`` escapes) sends each tool at least 100 argument sets generated from
its input schema (``fuzz_arguments``): valid-ish values with real ids and placements, boundary numbers, wrong
types, missing required and extra fields, NUL, lone surrogates, RTL, emoji/ZWJ, combining marks, 1 MB strings
and ids that do not exist. A few workers send them concurrently, in a seeded random order.

Fails when (a) a listed tool got fewer than 100 answers, (b) any answer is an internal error (an isError text
saying "Internal error" or giving a "Reference", JSON-RPC -32603, HTTP 5xx, a dropped connection or a hang), or
(c) an error for arguments the schema rejects, or for NUL / lone-surrogate text, does not name the field.
The seed is printed; ``PROMPTSALES_FUZZ_SEED`` replays a run.
"""

import asyncio
import base64
import io
import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.types import Tool
from PIL import Image
from sqlalchemy.engine import make_url

from .conftest import (
    MODERN,
    PG_ADMIN_DSN,
    ServerProcess,
    base_env,
    fresh_postgres_database,
    mcp_http_session,
    run_cli,
    stop_all,
)
from .fuzz_arguments import (
    ArgumentFuzzer,
    FuzzCase,
    Pools,
    branches,
    cases_for,
    fresh_key,
    pooled,
    random_word,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CASES_PER_TOOL = max(100, int(os.environ.get("PROMPTSALES_FUZZ_CASES", "100")))
HUGE_PER_TOOL = 3
WORKERS = 4
CALL_TIMEOUT_S = 30.0
ACCEPT = "application/json, text/event-stream"
ANY_ID = re.compile(r"\b(ct|ld|org|seg|run|as|cp)_[0-9A-Z]{26}\b")
INTERNAL = re.compile(
    r"internal error|\breference [0-9a-f]{6,}|traceback|error calling tool|database could not complete|"
    r"sqlalchemy|psycopg",
    re.IGNORECASE,
)
# Errors that say "this argument is not acceptable": such an error must name the field it is about.
ARGUMENT_ERROR = re.compile(
    r"invalid (arguments?|value)|validation error|not valid unicode|control character|nul\b|null character|"
    r"cannot store|surrogate",
    re.IGNORECASE,
)
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Violation|Failed)\w*: ")
# Tools that change what the others do run last: a tenant's model provider would send later content calls to
# a made-up base URL or to a real API.
LAST = ("content_set_ai_provider",)
# Rendering is real work (a valid 1.5 s MP4 takes ~2.5 s of CPU here, a PNG ~0.3 s): beyond these budgets, a
# valid placement is swapped for an unknown one, so the rest of these tools' cases still run their validation.
RENDER_BUDGET = {"content_generate_video": 3, "content_generate_image": 15}
VIDEO_SECONDS = 1.5


# ------------------------------------------------------------------------------------------------ server


@pytest.fixture(scope="module")
def fuzz_database() -> Iterator[str]:
    """A fresh database for the fuzzed server."""
    yield from fresh_postgres_database("promptsales_fuzz")


@pytest.fixture(scope="module")
def fuzz_server(fuzz_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    url = make_url(PG_ADMIN_DSN).set(drivername="postgresql+psycopg", database=fuzz_database)
    env = base_env(
        tmp_path_factory.mktemp("fuzz-data"),
        PROMPTSALES_DATABASE_URL=url.render_as_string(hide_password=False),
        PROMPTSALES_RATE_LIMITS_ENABLED="false",  # thousands of calls in a minute; rate limits have their tests
        PROMPTSALES_LOG_FORMAT="json",
        PROMPTSALES_LOG_LEVEL="warning",  # failures only: the log is attached to a failed test's report
        PROMPTSALES_LLM_TIMEOUT_SECONDS="3",
        PROMPTSALES_LLM_MAX_ATTEMPTS="1",
        # No call may leave this machine: anything that tries an outside API meets a closed local port.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        ALL_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
    )
    upgrade = run_cli("db", "upgrade", env=env)
    assert upgrade.returncode == 0, f"db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}"
    server = ServerProcess(Path(env["PROMPTSALES_DATA_DIR"]), env=env)
    try:
        server.start()
        yield server
    finally:
        stop_all(server)


# ------------------------------------------------------------------------------------------- raw client


@dataclass
class Answer:
    """What one call got back, reduced to what the assertions need."""

    case: FuzzCase
    status: int | None = None  # HTTP status; None when the connection failed
    is_error: bool = False
    text: str = ""  # the tool result's text, or the JSON-RPC error message, or the transport failure
    rpc_code: int | None = None
    transport: str | None = None
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status is not None

    def internal(self) -> str | None:
        """Why this answer is an internal error (None: it is not)."""
        if self.transport is not None:
            return f"connection: {self.transport}"
        if self.status is not None and self.status >= 500:
            return f"HTTP {self.status}: {self.text[:200]}"
        if self.rpc_code == -32603:
            return f"JSON-RPC -32603: {self.text[:300]}"
        if self.is_error and INTERNAL.search(self.text):
            return self.text[:300]
        return None

    def unnamed_field(self) -> str | None:
        """The field an error should have named but did not (None: nothing to complain about)."""
        case = self.case
        if case.must_name is None or not (self.is_error or self.rpc_code is not None):
            return None
        storage_hostile = case.kind in ("nul", "surrogate") and bool(ARGUMENT_ERROR.search(self.text))
        if (case.must_fail or storage_hostile) and case.must_name not in self.text:
            return case.must_name
        return None

    def accepted_invalid(self) -> bool:
        """The server accepted arguments its own schema rejects."""
        return self.case.must_fail and self.answered and self.status == 200 and not self.is_error and not self.rpc_code


def body_bytes(tool: str, arguments: dict[str, Any], request_id: int) -> bytes:
    """A 2026-07-28 tools/call body; lone surrogates become ``\\udXXX`` escapes (not encodable as UTF-8)."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": meta},
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def parse_answer(case: FuzzCase, response: httpx.Response) -> Answer:
    answer = Answer(case, status=response.status_code)
    if response.status_code != 200:
        answer.text = response.text[:500]
        return answer
    if response.headers.get("content-type", "").startswith("application/json"):
        messages = [response.json()]
    else:
        messages = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
    final = next((m for m in messages if "id" in m and ("result" in m or "error" in m)), None)
    if final is None:
        answer.transport = f"no JSON-RPC answer in the response: {response.text[:200]}"
        return answer
    if "error" in final:
        answer.rpc_code = final["error"].get("code")
        answer.text = str(final["error"].get("message", ""))
        return answer
    result = final["result"]
    answer.is_error = bool(result.get("isError"))
    answer.text = " ".join(block.get("text", "") for block in result.get("content", []) if isinstance(block, dict))
    return answer


class RawClient:
    """tools/call over plain HTTP, the way a non-SDK client or an attacker sends it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(timeout=CALL_TIMEOUT_S, limits=httpx.Limits(max_connections=WORKERS + 2))
        self.ids = iter(range(1, 10**9))

    async def call(self, case: FuzzCase) -> Answer:
        headers = {
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call",
            "Mcp-Name": case.tool,
        }
        started = time.perf_counter()
        try:
            response = await self.http.post(
                self.url, content=body_bytes(case.tool, case.arguments, next(self.ids)), headers=headers
            )
        except httpx.TimeoutException:
            answer = Answer(case, transport=f"no answer within {CALL_TIMEOUT_S:.0f} s")
        except httpx.TransportError as exc:
            answer = Answer(case, transport=f"{type(exc).__name__}: {exc}")
        else:
            answer = parse_answer(case, response)
        answer.seconds = time.perf_counter() - started
        return answer

    async def ok(self, tool: str, arguments: dict[str, Any]) -> str:
        """A seeding call that must succeed; returns its text (ids are harvested from it)."""
        answer = await self.call(FuzzCase(tool, "seed", arguments))
        assert answer.status == 200 and not answer.is_error and answer.rpc_code is None, (tool, answer.text[:500])
        return answer.text

    async def aclose(self) -> None:
        await self.http.aclose()


# -------------------------------------------------------------------------------------------- the world


async def listed_tools(url: str) -> list[Tool]:
    """Every tool, as the official client lists it (following pagination)."""
    async with mcp_http_session(url, MODERN) as session:
        tools: list[Tool] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(cursor=cursor) if cursor else await session.list_tools()
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools


async def channel_specs(url: str) -> dict[str, Any]:
    """The channel-specs resource (real channels, formats and placements for valid-ish arguments)."""
    async with mcp_http_session(url, MODERN) as session:
        resources = (await session.list_resources()).resources
        uri = next(str(r.uri) for r in resources if str(r.uri).endswith("/channel-specs"))
        read = await session.read_resource(uri)
        text = getattr(read.contents[0], "text", "")
        specs: dict[str, Any] = json.loads(text)
        return specs


def tiny_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


async def seed(client: RawClient) -> dict[str, list[str]]:
    """Records the fuzz can aim at (contacts, leads, an organization, a segment, a flow run, assets, a campaign)."""
    texts = []
    for n in range(3):
        texts.append(
            await client.ok(
                "crm_capture_lead",
                {
                    "source_channel": "web_form",
                    "email": f"seed{n}@acme-fuzz.example.com",
                    "first_name": "Ada",
                    "title": "CTO",
                    "company": "Acme Fuzz",
                    "company_domain": "acme-fuzz.example.com",
                    "industry": "software",
                    "employee_count": 500,
                    "country": "US",
                },
            )
        )
    texts.append(await client.ok("crm_create_organization", {"name": "Seed Org", "domain": "seed-org.example.com"}))
    texts.append(await client.ok("crm_create_segment", {"name": "Seed segment", "rule": SEGMENT_RULES[0]}))
    contact_id = re.search(r"\bct_[0-9A-Z]{26}\b", texts[0])
    assert contact_id is not None
    texts.append(
        await client.ok(
            "crm_start_flow", {"flow_id": "bant-qualification", "contact_id": contact_id.group(0), "channel": "chat"}
        )
    )
    texts.append(await client.ok("content_set_brand_kit", {"name": "Fuzz Brand", "colors": ["#123456"]}))
    copy = await client.ok(
        "content_generate_copy",
        {"brief": "Spring launch of our CRM for small teams", "channel": "meta", "format": "feed", "variants": 3},
    )
    texts.append(copy)
    asset = re.search(r"\bas_[0-9A-Z]{26}\b", copy)
    assert asset is not None
    texts.append(await client.ok("content_submit_asset", {"asset_id": asset.group(0)}))  # reviews need one in review
    goal = {
        "name": "Fuzz campaign",
        "objective": "leads",
        "product": "CRM for small teams",
        "markets": [{"country": "US", "languages": ["en"]}],
        "start_date": "2030-03-01",
        "end_date": "2030-03-31",
        "landing_url": "https://fuzz.example/crm",
        "budget": 5000,
    }
    texts.append(await client.ok("campaigns_plan_campaign", goal))  # campaign tools aim at a real campaign
    ids: dict[str, list[str]] = defaultdict(list)
    for text in texts:
        for match in ANY_ID.finditer(text):
            if match.group(0) not in ids[match.group(1)]:
                ids[match.group(1)].append(match.group(0))
    return dict(ids)


SEGMENT_RULES: list[dict[str, Any]] = [
    {"all": [{"field": "score", "op": "gte", "value": 10}]},
    {
        "any": [
            {"field": "country", "op": "in", "value": ["US", "ES"]},
            {"field": "tags", "op": "contains", "value": "vip"},
        ]
    },
    {
        "all": [
            {"field": "last_activity", "op": "within_days", "value": 30},
            {"any": [{"field": "stage", "op": "eq", "value": "mql"}]},
        ]
    },
    {"all": [{"field": "nonexistent", "op": "eq", "value": 1}]},
    {"all": []},
]
TEXTS = [
    "Hi, I'm Maria from Acme (maria@acme.example.com, +34 612 345 678). We need pricing for 50 seats by Q3.",
    "Cancel my subscription, this is the third outage this month!!!",
    "¿Pueden hacer una demo el martes? Tenemos unos 50k USD de presupuesto.",
    "ok",
]


def csv_text(rng: random.Random) -> str:
    rows = ["email,first_name,company,company_domain,employee_count,country,consent_email,tags"]
    for n in range(rng.randint(0, 3)):  # each row is a capture: keep imports cheap
        rows.append(
            f"imp{rng.randint(0, 40)}.{n}@import.example.com,Row{n},Imp Co,import.example.com,{n * 10},ES,yes,a;b"
        )
    if rng.random() < 0.3:
        rows.append("not-an-email,,,,lots,Atlantis,maybe,")
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Catalogue:
    """Real channel/format pairs and placements, from the channel-specs resource."""

    formats: list[dict[str, str]]
    images: list[str]
    videos: list[str]  # the ones a short (VIDEO_SECONDS) video may use

    @classmethod
    def of(cls, specs: dict[str, Any]) -> "Catalogue":
        formats, images, videos = [], [], []
        for channel, spec in specs.get("channels", {}).items():
            formats += [{"channel": channel, "format": name} for name in spec.get("formats", {})]
            images += [image["placement"] for image in spec.get("images", [])]
            # Brief-made videos need at least 1.5 s; placements with a longer minimum cost more rendering.
            videos += [v["placement"] for v in spec.get("videos", []) if (v.get("min_seconds") or 0) <= VIDEO_SECONDS]
        assert formats and images and videos, f"channel-specs lists no formats or placements: {list(specs)}"
        return cls(formats, images, videos)


def build_pools(ids: dict[str, list[str]], catalogue: Catalogue) -> Pools:
    formats, image_placements, video_placements = catalogue.formats, catalogue.images, catalogue.videos
    channels = sorted({f["channel"] for f in formats})
    words = lambda r: " ".join(random_word(r, r.randint(3, 9)) for _ in range(r.randint(1, 4)))  # noqa: E731
    by_name = {
        "email": lambda r: (
            f"fuzz.{random_word(r, 6)}@example.com" if r.random() < 0.9 else "seed0@acme-fuzz.example.com"
        ),
        "phone": lambda r: f"+1415555{r.randint(1000, 9999)}",
        "first_name": pooled(["Ada", "José", "Zoë", "Łukasz", "美咲", "O'Brien"]),
        "last_name": pooled(["Lovelace", "Núñez", "Smith-Jones", "ﻋﻠﻲ"]),
        "title": pooled(["CTO", "VP Marketing", "Head of Sales", "Intern", "Director de Ventas"]),
        "company": pooled(["Acme Fuzz", "Globex", "Initech S.L."]),
        "company_domain": pooled(["acme-fuzz.example.com", "globex.example.com", "initech.example.es"]),
        "domain": lambda r: f"{random_word(r, 7)}.example.com" if r.random() < 0.8 else "seed-org.example.com",
        "industry": pooled(["software", "retail", "Healthcare", "manufacturing"]),
        "country": pooled(["US", "ES", "DE", "Spain", "United States", "mx"]),
        "region": pooled(["CA", "Madrid", "Bavaria"]),
        "owner": pooled(["rep@example.com", "u-42"]),
        "tag": pooled(["vip", "trial"]),
        "tags": lambda r: r.sample(["vip", "trial", "newsletter", "q3"], r.randint(0, 3)),
        "query": pooled(["acme", "Ada", "fuzz", "%", "_"]),
        "referrer": pooled(["https://www.google.com/search?q=crm", "https://example.com/blog"]),
        "landing_page": pooled(["https://example.com/pricing?utm_source=x"]),
        "campaign_ref": pooled(["spring-launch", "q3-webinar"]),
        "flow_id": pooled(["bant-qualification", "no-such-flow"]),
        "user_input": pooled(["1", "2", "yes", "It's pretty urgent for us", "we have about 50k USD", "no sé", ""]),
        "rule": lambda r: r.choice(SEGMENT_RULES),
        "overrides": pooled(
            [{"stages": {"mql_min_score": 45}}, {"stages": {"mql_min_score": "high"}}, {"fit": {"industries": {}}}, {}]
        ),
        "schema": pooled(
            [
                {
                    "type": "object",
                    "properties": {"email": {"type": "string", "format": "email"}},
                    "required": ["email"],
                },
                {"properties": {"budget": {"type": "number"}, "when": {"type": "string", "format": "date"}}},
                {"properties": {}},
            ]
        ),
        "text": pooled(TEXTS),
        "summary": pooled(TEXTS),
        "transcript": pooled(TEXTS),
        "copy": pooled(["Try our CRM free for 30 days. Sign up today!", "El mejor CRM 🚀", "Reply STOP to opt out."]),
        "brief": pooled(
            ["Spring launch of our CRM for small teams, 20% off", "Webinar: pipeline hygiene in 30 minutes"]
        ),
        "channel": pooled(channels),
        "placement": lambda r: r.choice(image_placements + video_placements),
        "brand_kit": pooled(["Fuzz Brand", "No Such Kit"]),
        "name": lambda r: f"Fuzz {words(r)}"[:60],
        "feature": pooled(
            [
                "crm_import_leads",
                "contacts",
                "content_generations",
                "channel:google_ads",
                "context:content",
                "connectors:live",
            ]
        ),
        "plan": pooled(["starter", "pro", "enterprise", "free", "platinum"]),
        "confirmation_token": lambda r: f"cf_{random_word(r, 12)}",
        "colors": lambda r: [f"#{r.randint(0, 0xFFFFFF):06x}" for _ in range(r.randint(1, 3))],
        "logo_png_base64": lambda r: tiny_png(),
        "storyboard": lambda r: [
            {"headline": words(r), "seconds": r.choice([1, 0.5, 30])} for _ in range(r.randint(1, 3))
        ],
        "base_url": pooled(["http://127.0.0.1:9/v1"]),
        "api_key": lambda r: f"sk-fuzz-{random_word(r, 20)}",
        "idempotency_key": fresh_key,
        "csv_text": csv_text,
        "note": pooled(["Looks good", "Off-brand colours", ""]),
        "intents": pooled([["pricing", "demo"], ["a"]]),
        "topics": pooled([["billing", "onboarding"]]),
        "attributes": pooled([{"plan": "pro"}, {"nested": {"deep": [1, 2]}}]),
        "cursor": lambda r: base64.urlsafe_b64encode(json.dumps({"k": random_word(r)}).encode()).decode(),
    }
    return Pools(by_name=by_name, ids=ids, groups=formats)


def cap_rendering(cases: list[FuzzCase], catalogue: Catalogue) -> list[FuzzCase]:
    """Keep real renders within ``RENDER_BUDGET``; valid videos are ``VIDEO_SECONDS`` long."""
    renders = {"content_generate_image": set(catalogue.images), "content_generate_video": set(catalogue.videos)}
    budget = dict(RENDER_BUDGET)
    capped = []
    for case in cases:
        arguments = case.arguments
        placement = arguments.get("placement")
        real = renders.get(case.tool, set())
        if isinstance(placement, str) and placement in real and not case.must_fail:
            if budget[case.tool] > 0:
                budget[case.tool] -= 1
                if case.tool == "content_generate_video":
                    arguments = {**arguments, "duration_seconds": VIDEO_SECONDS}
            else:
                arguments = {**arguments, "placement": "fuzz_unknown_placement"}
        capped.append(FuzzCase(case.tool, case.kind, arguments, case.target, case.must_fail, case.must_name))
    return capped


# ------------------------------------------------------------------------------------------------ running


async def run_all(client: RawClient, cases: list[FuzzCase]) -> list[Answer]:
    """Send every case with ``WORKERS`` concurrent callers."""
    queue: asyncio.Queue[FuzzCase] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)
    answers: list[Answer] = []

    async def worker() -> None:
        while not queue.empty():
            answers.append(await client.call(queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return answers


def table(rows: list[tuple[str, str, str]], limit: int = 60) -> str:
    lines = [f"{tool:32} | {arguments:110} | {error}" for tool, arguments, error in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more")
    return "\n".join(lines)


def log_excerpt(server: ServerProcess, answers: list[Answer]) -> str:
    """For each internal error's reference: the tool and the exception the server logged for it."""
    references = {m.group(1) for a in answers if (m := re.search(r"Reference ([0-9a-f]+)", a.text))}
    causes: Counter[str] = Counter()
    for line in server.log_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") != "error":
            continue
        headers = [h for h in str(entry.get("exception", "")).splitlines() if EXCEPTION_LINE.match(h)]
        cause = headers[-1][:220] if headers else str(entry.get("event"))
        known = "" if entry.get("request_id") in references else " (no matching reference)"
        causes[f"{entry.get('tool', '?')}: {cause}{known}"] += 1
    return "\n".join(f"{count:3}x {cause}" for cause, count in causes.most_common(40))


def coverage(answers: list[Answer]) -> str:
    """Per tool: successes, clean errors, internal errors, the time its calls took, and its commonest error
    when nothing succeeded (a tool the fuzz never gets past validation is only tested shallowly)."""
    per_tool: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for answer in answers:
        outcome = "internal" if answer.internal() else "error" if answer.is_error or answer.rpc_code else "ok"
        per_tool[answer.case.tool][outcome] += 1
        seconds[answer.case.tool] += answer.seconds
        if outcome == "error" and answer.case.kind == "valid":
            errors[answer.case.tool][re.sub(r"\b\w+_[0-9A-Z]{26}\b", "<id>", answer.text)[:90]] += 1
    lines = []
    for tool, counts in sorted(per_tool.items()):
        line = f"{tool:32} ok={counts['ok']:3} error={counts['error']:3} internal={counts['internal']:3}"
        line += f" time={seconds[tool]:5.1f} s"
        if counts["ok"] == 0 and errors[tool]:
            line += f"  (valid cases mostly: {errors[tool].most_common(1)[0][0]})"
        lines.append(line)
    return "\n".join(lines)


async def test_every_tool_survives_generated_arguments(fuzz_server: ServerProcess) -> None:
    seed_value = int(os.environ.get("PROMPTSALES_FUZZ_SEED", str(random.SystemRandom().randrange(2**32))))
    print(f"\nfuzz seed {seed_value} (PROMPTSALES_FUZZ_SEED={seed_value} replays these cases)")
    rng = random.Random(seed_value)
    tools = await listed_tools(fuzz_server.mcp_url)
    assert len(tools) >= 40, [t.name for t in tools]
    catalogue = Catalogue.of(await channel_specs(fuzz_server.mcp_url))
    client = RawClient(fuzz_server.mcp_url)
    try:
        ids = await seed(client)
        fuzzer = ArgumentFuzzer(rng, build_pools(ids, catalogue))
        first: list[FuzzCase] = []
        last: list[FuzzCase] = []
        for tool in tools:
            has_text = "string" in json.dumps(tool.input_schema)
            cases = cases_for(
                fuzzer, tool.name, tool.input_schema, count=CASES_PER_TOOL, huge=HUGE_PER_TOOL if has_text else 0
            )
            (last if tool.name in LAST else first).extend(cap_rendering(cases, catalogue))
        rng.shuffle(first)
        started = time.perf_counter()
        answers = await run_all(client, first) + await run_all(client, last)
        elapsed = time.perf_counter() - started
    finally:
        await client.aclose()
    print(f"{len(answers)} calls in {elapsed:.1f} s; slowest {max(a.seconds for a in answers):.1f} s")
    print(coverage(answers))

    answered = Counter(a.case.tool for a in answers if a.answered)
    too_few = {t.name: answered[t.name] for t in tools if answered[t.name] < 100}
    internal = [
        (a.case.tool, a.case.summary(), f"[{a.case.kind} {a.case.target}] {reason}")
        for a in answers
        if (reason := a.internal())
    ]
    unnamed = [
        (
            a.case.tool,
            a.case.summary(),
            f"[{a.case.kind} {a.case.target}] error does not name {field!r}: {a.text[:160]}",
        )
        for a in answers
        if (field := a.unnamed_field()) and not a.internal()
    ]
    accepted = [
        (a.case.tool, a.case.summary(), f"[{a.case.kind} {a.case.target}] accepted although the schema forbids it")
        for a in answers
        if a.accepted_invalid()
    ]
    async with httpx.AsyncClient(timeout=5) as probe:
        ready = await probe.get(f"{fuzz_server.base_url}/readyz")

    problems = []
    if too_few:
        problems.append(f"(a) tools exercised fewer than 100 times: {too_few}")
    if internal:
        problems.append(
            f"(b) {len(internal)} internal errors:\n{table(internal)}\nserver log:\n{log_excerpt(fuzz_server, answers)}"
        )
    if unnamed or accepted:
        problems.append(
            f"(c) {len(unnamed) + len(accepted)} argument errors without the field:\n{table(unnamed + accepted)}"
        )
    if ready.status_code != 200:
        problems.append(f"the server is not ready after the fuzz: {ready.status_code} {ready.text[:200]}")
    assert not problems, f"seed {seed_value}\n" + "\n\n".join(problems)


async def test_every_string_parameter_is_bounded(fuzz_server: ServerProcess) -> None:
    """Every string a tool takes (nested ones too) declares maxLength or a closed set: storage has limits."""
    unbounded = []
    for tool in await listed_tools(fuzz_server.mcp_url):
        fuzzer = ArgumentFuzzer(random.Random(0))
        for path, prop, _ in fuzzer.slots(tool.input_schema):
            for branch in branches(prop, tool.input_schema):
                # A date or date-time is parsed, not stored as text; everything else needs a bound that fits its column.
                bounded = {"maxLength", "enum", "const"} & set(branch) or branch.get("format") in ("date-time", "date")
                if branch.get("type") == "string" and not bounded:
                    unbounded.append(f"{tool.name}.{'.'.join(map(str, path))}")
    assert not unbounded, f"string parameters without maxLength: {unbounded}"


def _sse(message: dict[str, Any]) -> httpx.Response:
    body = f"event: message\ndata: {json.dumps(message)}\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def test_the_detector_tells_internal_errors_from_clean_refusals() -> None:
    """The oracle itself: what counts as an internal error, and when an error must name its field."""
    case = FuzzCase("crm_get_lead", "wrong_type", {"lead_id": 5}, target="lead_id", must_fail=True, must_name="lead_id")

    def tool_result(text: str, *, is_error: bool = True) -> Answer:
        result = {"content": [{"type": "text", "text": text}], "isError": is_error}
        return parse_answer(case, _sse({"jsonrpc": "2.0", "id": 1, "result": result}))

    masked = tool_result("Internal error while running crm_get_lead. Reference 0a1b2c3d4e5f6789. Retrying is safe.")
    assert masked.internal() is not None
    rpc = parse_answer(case, _sse({"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "boom"}}))
    assert rpc.internal() == "JSON-RPC -32603: boom"
    assert parse_answer(case, httpx.Response(502, text="bad gateway")).internal() == "HTTP 502: bad gateway"
    assert Answer(case, transport="ReadError: reset").internal() == "connection: ReadError: reset"
    assert tool_result("database could not complete the request").internal() is not None

    clean = tool_result("Invalid arguments for crm_get_lead: lead_id: Input should be a valid string.")
    assert clean.internal() is None and clean.unnamed_field() is None and not clean.accepted_invalid()
    vague = tool_result("Invalid arguments for crm_get_lead: Input should be a valid string.")
    assert vague.unnamed_field() == "lead_id"
    assert tool_result('{"id": "ld_x"}', is_error=False).accepted_invalid()

    nul = FuzzCase("crm_create_organization", "nul", {"name": "a\x00"}, target="name", must_name="name")
    stored = Answer(nul, status=200, is_error=True, text="A value has characters the database cannot store.")
    assert stored.unnamed_field() == "name"
    unrelated = Answer(nul, status=200, is_error=True, text="An organization with domain 'x' already exists.")
    assert unrelated.unnamed_field() is None


def test_lone_surrogates_travel_as_json_escapes() -> None:
    body = body_bytes("crm_search_contacts", {"query": "a\ud800b"}, 1)
    assert b'"a\\ud800b"' in body
    assert json.loads(body)["params"]["arguments"]["query"] == "a\ud800b"
