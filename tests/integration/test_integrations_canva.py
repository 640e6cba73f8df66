"""The Canva client against the in-process Canva simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked (tests.integration.connector_fakes): the policy's retries and the export polling sleep on a fake clock
that the simulator reads too, so throttle windows really pass and no test waits.
"""

import io
import json
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from structlog.testing import capture_logs

from promptsales.domain_core.integrations.canva.client import (
    CanvaClient,
    CanvaDesignAssets,
    CanvaExportFormat,
    download_limits,
)
from promptsales.domain_core.integrations.canva.simulator import CanvaSimulator
from promptsales.domain_core.integrations.design_assets import (
    DesignAssetsPlatform,
    DesignDownloadRefused,
    DesignJobFailed,
    DesignJobTimedOut,
    JobPolling,
)
from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, PlatformDown, RateLimited
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "cnv-at-ana-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
OTHER_TOKEN = "cnv-at-bob-Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkw"
SANDBOX = get_connector("canva").sandbox_base_url


@pytest.fixture
def sim(time_: FakeTime) -> CanvaSimulator:
    simulator = CanvaSimulator(clock=time_.now)
    simulator.grant(TOKEN, "ana")
    simulator.grant(OTHER_TOKEN, "bob")
    return simulator


def client(
    sim: CanvaSimulator,
    time_: FakeTime,
    *,
    token: str = TOKEN,
    deadline_s: float = 120.0,
    polling: JobPolling | None = None,
    max_download_bytes: int = 1_000_000,
) -> CanvaClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return CanvaClient.connect(
        tenant_id="tenant-a",
        auth=auth,
        base_url=SANDBOX,
        polling=polling,
        max_download_bytes=max_download_bytes,
        policy=RequestPolicy(max_attempts=4, deadline_s=deadline_s),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
        secrets=(token,),
    )


def api_calls(sim: CanvaSimulator, method: str, suffix: str) -> int:
    return sum(1 for _, m, path in sim.requests if m == method and path.endswith(suffix))


async def test_designs_are_listed_to_the_last_page(sim: CanvaSimulator, time_: FakeTime) -> None:
    ids = [sim.seed_design("ana", f"Poster {i}", at=T0 + timedelta(minutes=i)) for i in range(7)]
    shared = sim.seed_design("ana", "Team deck", shared=True, at=T0)
    sim.seed_design("bob", "Not ours", at=T0)
    canva = client(sim, time_)

    designs = [d async for d in canva.designs(page_size=3)]

    # Newest first, every page read, nothing from another user.
    assert [d.id for d in designs] == [*reversed(ids), shared]
    assert api_calls(sim, "GET", "/designs") == 3
    first = designs[0]
    assert first.title == "Poster 6" and first.page_count == 1 and first.created_at == T0 + timedelta(minutes=6)
    assert first.thumbnail is not None and (first.thumbnail.width, first.thumbnail.height) == (64, 36)
    assert "edit_url" not in repr(first) and "X-Amz" not in repr(first)
    assert [d.id for d in await canva.list_designs(ownership="shared")] == [shared]
    assert [d.title for d in await canva.list_designs(query="poster 3")] == ["Poster 3"]
    platform: DesignAssetsPlatform = CanvaDesignAssets(canva)
    summaries = await platform.list_designs(limit=4)
    assert [s.design_id for s in summaries] == list(reversed(ids))[:4] and summaries[0].platform == "canva"
    with pytest.raises(ValueError, match="limit"):
        await canva.designs_page(limit=101)


async def test_export_png_and_pdf_bring_back_the_files(sim: CanvaSimulator, time_: FakeTime) -> None:
    poster = sim.seed_design("ana", "Spring poster", width=120, height=80)
    deck = sim.seed_design("ana", "Pitch deck", pages=3)
    canva = client(sim, time_)

    png = await CanvaDesignAssets(canva).export_design(poster, "png")

    assert png.bytes.startswith(b"\x89PNG\r\n\x1a\n") and png.content_type == "image/png"
    assert (png.platform, png.design_id, png.title, png.format) == ("canva", poster, "Spring poster", "png")
    assert (png.width, png.height) == (120, 80) == Image.open(io.BytesIO(png.bytes)).size
    assert png.source_url is not None and urlsplit(png.source_url).query == ""
    assert png.source_url.startswith("https://export-download.canva.sandbox.promptsales.invalid/")
    # One status check after the create answered in_progress; the file came from the file host, without a token
    # (the simulated storage refuses a second auth mechanism).
    assert time_.sleeps == [1.0] and api_calls(sim, "GET", ".png") == 1

    pdf = await canva.export_design(deck, "pdf")

    assert pdf.bytes.startswith(b"%PDF-") and pdf.bytes.rstrip().endswith(b"%%EOF") and b"/Count 3" in pdf.bytes
    assert pdf.content_type == "application/pdf" and pdf.width is None and len(pdf.bytes) == pdf.size
    second = await canva.export_design(deck, "png", page=2)
    assert second.bytes != (await canva.export_design(deck, "png", page=3)).bytes
    with pytest.raises(ValueError, match="design_id"):
        await canva.export_design("../../etc", "png")
    with pytest.raises(ValueError, match="png exports only"):
        CanvaExportFormat(type="pdf", width=400)


async def test_a_failed_export_raises_with_canvas_reason(sim: CanvaSimulator, time_: FakeTime) -> None:
    design = sim.seed_design("ana", "Premium flyer")
    sim.fail_export(design)
    canva = client(sim, time_)

    with pytest.raises(DesignJobFailed) as caught:
        await canva.export_design(design, "png")

    assert caught.value.platform_code == "license_required" and caught.value.code == "connector_job_failed"
    assert "required license to export in PRO quality" in str(caught.value) and "Canva" in str(caught.value)
    assert caught.value.job_id == sim.exports("ana")[0]


async def test_an_export_that_never_finishes_times_out(sim: CanvaSimulator, time_: FakeTime) -> None:
    design = sim.seed_design("ana", "Stuck")
    sim.stall_export(design)
    canva = client(sim, time_, polling=JobPolling(first_wait_s=1.0, factor=2.0, max_wait_s=4.0, deadline_s=20.0))

    with pytest.raises(DesignJobTimedOut) as caught:
        await canva.export_design(design, "pdf")

    # 1 + 2 + 4 + 4 + 4 + 4 = 19 s; the next 4 s wait would pass the 20 s budget, so it stops there.
    assert time_.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0] and caught.value.polls == 6
    assert api_calls(sim, "GET", caught.value.job_id) == 6
    assert "did not finish within 19 s (6 status checks)" in str(caught.value)
    capped = client(sim, time_, polling=JobPolling(max_polls=2))
    with pytest.raises(DesignJobTimedOut) as again:
        await capped.export_design(design, "pdf")
    assert again.value.polls == 2


async def test_429_retry_after_is_honoured_on_reads_and_on_the_export_post(time_: FakeTime) -> None:
    sim = CanvaSimulator(clock=time_.now, exports_per_window=2)
    sim.grant(TOKEN, "ana")
    design = sim.seed_design("ana", "Busy")
    canva = client(sim, time_)
    sim.fail_next(429, retry_after=7)

    assert (await canva.get_design(design)).title == "Busy"
    assert time_.sleeps == [7.0]

    png = CanvaExportFormat(type="png")
    await canva.start_export(design, png)
    await canva.start_export(design, png)
    with pytest.raises(RateLimited) as refused:
        await canva.start_export(design, png)
    # 75 exports / 5 min per user (here 2): the wait (to the window's end) is past this call's deadline, so the
    # caller gets it at once, with Canva's message, and nothing was sent again.
    assert refused.value.retry_after_seconds == 300.0 and "Too many export requests for user" in str(refused.value)
    assert api_calls(sim, "POST", "/exports") == 3 and time_.sleeps == [7.0] and len(sim.exports("ana")) == 2
    patient = client(sim, time_, deadline_s=600.0)
    job = await patient.start_export(design, png)
    assert time_.sleeps == [7.0, 300.0] and job.status == "in_progress" and len(sim.exports("ana")) == 3


async def test_5xx_is_retried_on_reads_but_the_export_post_is_sent_once(sim: CanvaSimulator, time_: FakeTime) -> None:
    design = sim.seed_design("ana", "Flaky")
    canva = client(sim, time_)
    sim.fail_next(503)

    assert (await canva.get_design(design)).id == design
    assert time_.sleeps == [0.125] and api_calls(sim, "GET", design) == 2

    assert get_connector("canva").idempotency_header is None  # §12: no idempotency key, so no safe resend
    sim.fail_next(500)
    with pytest.raises(PlatformDown) as caught:
        await canva.start_export(design, CanvaExportFormat(type="pdf"))
    assert caught.value.status == 500 and api_calls(sim, "POST", "/exports") == 1 and time_.sleeps == [0.125]
    assert caught.value.may_have_applied and "may have been applied" in str(caught.value.hint)


async def test_a_revoked_token_is_auth_expired_without_the_token(sim: CanvaSimulator, time_: FakeTime) -> None:
    canva = client(sim, time_)
    sim.revoke(TOKEN)

    with pytest.raises(AuthExpired) as caught:
        await canva.list_designs()

    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    assert "Access token is revoked" in text and TOKEN not in text and caught.value.status == 401
    with pytest.raises(AuthExpired, match="Access token is invalid"):
        await client(sim, time_, token="cnv-at-unknown-0000000000000000").list_designs()
    assert time_.sleeps == []


async def test_the_signed_download_url_never_shows(sim: CanvaSimulator, time_: FakeTime) -> None:
    design = sim.seed_design("ana", "Secret launch")
    canva = client(sim, time_)
    job = await canva.wait_for_export(await canva.start_export(design, CanvaExportFormat(type="png")))
    (url,) = job.urls
    query = urlsplit(url).query
    signature = query.split("X-Amz-Signature=")[1]
    assert signature and signature not in repr(job)

    sim.fail_download(503, times=4)
    with capture_logs() as logs, pytest.raises(DesignDownloadRefused) as down:
        await canva.download(url, "png")
    time_.elapsed += timedelta(hours=25).total_seconds()
    with pytest.raises(DesignDownloadRefused) as expired:
        await canva.download(url, "png")

    assert down.value.status == 503 and "could not be" not in str(down.value)
    assert expired.value.status == 403 and "may have expired" in str(expired.value)
    for error in (down.value, expired.value):
        text = f"{error} {error!r} {error.hint} {error.detail}"
        assert signature not in text and query not in text and "X-Amz" not in text
    assert logs and all(signature not in str(entry) for entry in logs)
    fresh = await canva.export_design(design, "png")
    assert signature not in repr(fresh) and fresh.source_url is not None and "?" not in fresh.source_url


async def test_downloads_are_capped_and_kept_to_the_file_host(sim: CanvaSimulator, time_: FakeTime) -> None:
    big = sim.seed_design("ana", "Huge", padding=5_000)
    canva = client(sim, time_, max_download_bytes=4_096)

    with pytest.raises(DesignDownloadRefused, match="larger than the 4,096-byte limit"):
        await canva.export_design(big, "png")

    for url, reason in (
        ("https://evil.example/export.png?sig=1", "not one this connector downloads from"),
        ("https://evilcanva.com/export.png", "not one this connector downloads from"),
        ("http://export-download.canva.com/export.png", "not https"),
    ):
        with pytest.raises(DesignDownloadRefused, match=reason):
            await canva.download(url, "png")
    assert download_limits("https://api.canva.com/rest/v1").hosts == ("canva.com",)
    assert download_limits(SANDBOX).allows("export-download.canva.sandbox.promptsales.invalid")


async def test_a_brand_logo_is_uploaded_as_an_asset(sim: CanvaSimulator, time_: FakeTime) -> None:
    logo = Image.new("RGB", (8, 8), (200, 30, 30))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    canva = client(sim, time_)

    asset_id = await CanvaDesignAssets(canva).push_brand_logo(buffer.getvalue(), "Acme logo ✓")

    stored = sim.account("ana").assets[asset_id]
    assert stored["name"] == "Acme logo ✓" and stored["bytes"] == buffer.getvalue() and stored["type"] == "image"
    assert api_calls(sim, "POST", "/asset-uploads") == 1 and time_.sleeps == [1.0]
    # Canva refuses what it cannot import, with its reason; a 5xx on the upload POST is not resent.
    with pytest.raises(DesignJobFailed, match="Failed to import the file") as refused:
        await canva.upload_asset(b"\xff\xd8\xff" + b"not really a jpeg", "Broken")
    assert refused.value.platform_code == "import_failed"
    sim.fail_next(503)
    with pytest.raises(PlatformDown):
        await canva.upload_asset(buffer.getvalue(), "Acme logo")
    assert api_calls(sim, "POST", "/asset-uploads") == 3
    for image, name, field in ((buffer.getvalue(), "x" * 51, "name"), (b"GIF89a", "Acme", "PNG or a JPEG")):
        with pytest.raises(ValueError, match=field):
            await canva.start_asset_upload(image, name)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=SANDBOX) as raw:
        bad = await raw.post(
            "/asset-uploads",
            content=b"x",
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/octet-stream",
                "Asset-Upload-Metadata": json.dumps({"name": "no base64"}),
            },
        )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_header_value"
