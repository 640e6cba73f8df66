"""The Adobe Express (Firefly Services) client against the in-process simulator (httpx.ASGITransport into
ConnectorHttp), with the IMS server-to-server token fetched from the simulator too.

Time is faked (tests.integration.connector_fakes): retries, Retry-After waits and job polling sleep on a fake
clock that the simulator reads too, so token lifetimes and rate windows really pass and no test waits.
"""

import io
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from pydantic import ValidationError
from structlog.testing import capture_logs

from promptsales.domain_core.integrations.adobe_express.client import (
    FireflyClient,
    FireflyDesignAssets,
    FireflyGenerateRequest,
    ImsTokenSource,
    download_limits,
)
from promptsales.domain_core.integrations.adobe_express.simulator import AdobeExpressSimulator
from promptsales.domain_core.integrations.design_assets import (
    DesignAssetsPlatform,
    DesignDownloadRefused,
    DesignJobFailed,
    DesignJobTimedOut,
    DesignOperationUnsupported,
    JobPolling,
)
from promptsales.domain_core.integrations.http import ConnectorHttp, RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, PlatformDown, RateLimited
from tests.integration.connector_fakes import FakeTime

CLIENT_ID = "ff-client-acme-0c1d2e3f"
CLIENT_SECRET = "p8e-ff-secret-acme-Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkw"
SANDBOX = get_connector("adobe_express").sandbox_base_url


@pytest.fixture
def sim(time_: FakeTime) -> AdobeExpressSimulator:
    simulator = AdobeExpressSimulator(clock=time_.now)
    simulator.add_client(CLIENT_ID, CLIENT_SECRET, "acme")
    return simulator


def options(sim: AdobeExpressSimulator, time_: FakeTime, deadline_s: float) -> dict[str, Any]:
    return {
        "policy": RequestPolicy(max_attempts=4, deadline_s=deadline_s),
        "transport": httpx.ASGITransport(app=sim.app),
        "sleep": time_.sleep,
        "clock": time_.monotonic,
        "jitter": lambda: 0.0,
        "now": time_.now,
    }


def client(
    sim: AdobeExpressSimulator,
    time_: FakeTime,
    *,
    secret: str = CLIENT_SECRET,
    deadline_s: float = 120.0,
    polling: JobPolling | None = None,
    max_download_bytes: int = 1_000_000,
) -> FireflyClient:
    return FireflyClient.connect(
        tenant_id="tenant-a",
        client_id=CLIENT_ID,
        client_secret=secret,
        base_url=SANDBOX,
        polling=polling,
        max_download_bytes=max_download_bytes,
        **options(sim, time_, deadline_s),
    )


def granted_client(sim: AdobeExpressSimulator, time_: FakeTime, token: str) -> FireflyClient:
    """A client on a token handed out directly (no IMS source to renew it)."""

    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}", "x-api-key": CLIENT_ID}

    http = ConnectorHttp(
        get_connector("adobe_express"),
        base_url=SANDBOX,
        tenant_id="tenant-a",
        auth=auth,
        secrets=(token,),
        **options(sim, time_, 120.0),
    )
    return FireflyClient(http, sleep=time_.sleep, clock=time_.monotonic)


def calls(sim: AdobeExpressSimulator, method: str, fragment: str) -> int:
    return sum(1 for _, m, path in sim.requests if m == method and fragment in path)


async def test_generate_then_export_a_png_with_an_ims_token(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    platform: DesignAssetsPlatform = FireflyDesignAssets(firefly)

    job = await firefly.generate_images(
        FireflyGenerateRequest(prompt="a red bicycle at dawn", width=96, height=64, num_variations=2, seeds=(7, 9))
    )
    png = await platform.export_design(job.job_id, "png")

    assert png.bytes.startswith(b"\x89PNG\r\n\x1a\n") and png.content_type == "image/png"
    assert (png.platform, png.design_id, png.format) == ("adobe_express", job.job_id, "png")
    assert (png.width, png.height) == (96, 64) == Image.open(io.BytesIO(png.bytes)).size
    assert png.source_url is not None and urlsplit(png.source_url).query == ""
    # Firefly gave a JPEG [~]; the design file is the PNG made from it.
    served = await firefly.download((await firefly.job(job.job_id)).outputs[1].url)
    assert served.content.startswith(b"\xff\xd8\xff") and served.content_type == "image/jpeg"
    second = await firefly.export_design(job.job_id, output=1)
    assert second.bytes != png.bytes
    # One token for all of it; a new one once the first is near its end (expires_in 86399 s).
    assert sim.token_requests == 1 and time_.sleeps == []
    time_.elapsed += 86_399 - 200
    assert (await firefly.job(job.job_id)).status == "succeeded" and sim.token_requests == 2


async def test_png_output_passes_through_and_jobs_are_polled(time_: FakeTime) -> None:
    sim = AdobeExpressSimulator(clock=time_.now, output_type="image/png", job_polls=3)
    sim.add_client(CLIENT_ID, CLIENT_SECRET, "acme")
    firefly = client(sim, time_)

    job = await firefly.generate_images(FireflyGenerateRequest(prompt="logo sketch", width=40, height=40))
    png = await firefly.export_design(job.job_id)

    assert time_.sleeps == [1.0, 1.5] and calls(sim, "GET", "/v3/status/") == 3
    output = (await firefly.job(job.job_id)).outputs[0]
    assert png.bytes == (await firefly.download(output.url)).content and (png.width, png.height) == (40, 40)


async def test_a_failed_job_raises_with_fireflys_message(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    sim.fail_next_job("runtime_error", "The model could not render this prompt.")

    job = await firefly.generate_images(FireflyGenerateRequest(prompt="anything"))
    with pytest.raises(DesignJobFailed) as caught:
        await firefly.export_design(job.job_id)

    assert caught.value.platform_code == "runtime_error" and caught.value.job_id == job.job_id
    assert "The model could not render this prompt." in str(caught.value) and "later" in str(caught.value.hint)


async def test_a_job_that_never_finishes_times_out(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_, polling=JobPolling(first_wait_s=2.0, factor=1.0, max_wait_s=2.0, max_polls=4))
    sim.stall_next_job()

    job = await firefly.generate_images(FireflyGenerateRequest(prompt="forever"))
    with pytest.raises(DesignJobTimedOut) as caught:
        await firefly.export_design(job.job_id)

    assert time_.sleeps == [2.0] * 4 and caught.value.polls == 4 and caught.value.job_id == job.job_id
    assert calls(sim, "GET", "/v3/status/") == 5  # the first look, then 4 checks: no more


async def test_429_retry_after_is_honoured(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    sim.fail_next(429, retry_after=5)

    # The generation POST was refused, so it is sent again after exactly the wait Firefly asked for.
    job = await firefly.generate_images(FireflyGenerateRequest(prompt="retry me"))
    assert time_.sleeps == [5.0] and calls(sim, "POST", "/generate-async") == 2 and len(sim.jobs("acme")) == 1

    sim.fail_next(429, retry_after=3)
    assert (await firefly.job(job.job_id)).status == "succeeded"
    assert time_.sleeps == [5.0, 3.0]

    busy = AdobeExpressSimulator(clock=time_.now, rate_limit_per_minute=2)
    busy.add_client(CLIENT_ID, CLIENT_SECRET, "acme")
    time_.elapsed = 10.4
    strict = client(busy, time_, deadline_s=30.0)
    await strict.generate_images(FireflyGenerateRequest(prompt="one"))
    await strict.generate_images(FireflyGenerateRequest(prompt="two"))
    with pytest.raises(RateLimited) as refused:
        await strict.generate_images(FireflyGenerateRequest(prompt="three"))
    # retry-after is an HTTP date: the second at which the window frees (60 s after the first call at 10.4 s,
    # rounded up to 71 s), read against the same clock; 60.6 s is past the 30 s deadline, so no wait was started.
    assert refused.value.retry_after_seconds == pytest.approx(60.6) and refused.value.status == 429
    assert "Retry in 61 s" in str(refused.value.hint) and time_.sleeps == [5.0, 3.0]
    assert "rate limit" in str(refused.value) and len(busy.jobs("acme")) == 2


async def test_5xx_is_retried_on_reads_but_generation_is_sent_once(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    job = await firefly.generate_images(FireflyGenerateRequest(prompt="steady"))
    sim.fail_next(502)

    assert (await firefly.job(job.job_id)).status == "succeeded" and time_.sleeps == [0.125]

    assert get_connector("adobe_express").idempotency_header is None  # §13: none
    sim.fail_next(500)
    with pytest.raises(PlatformDown) as caught:
        await firefly.generate_images(FireflyGenerateRequest(prompt="once only"))
    assert caught.value.status == 500 and calls(sim, "POST", "/generate-async") == 2 and time_.sleeps == [0.125]
    assert caught.value.may_have_applied


async def test_revoked_tokens_and_credentials(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    direct = "ff-at-direct-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz"
    sim.grant(direct, "acme", client_id=CLIENT_ID)
    sim.revoke(direct)
    with pytest.raises(AuthExpired) as caught:
        await granted_client(sim, time_, direct).generate_images(FireflyGenerateRequest(prompt="x"))
    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    assert "Oauth token is not valid" in text and direct not in text and caught.value.status == 401

    # A revoked IMS token is replaced once (client credentials can always mint another); a removed credential
    # cannot be, and a wrong secret is refused by IMS: both are AuthExpired, the secret never shown.
    firefly = client(sim, time_)
    job = await firefly.generate_images(FireflyGenerateRequest(prompt="before"))
    assert sim.revoke_tokens(CLIENT_ID) == 1
    assert (await firefly.job(job.job_id)).status == "succeeded" and sim.token_requests == 2
    sim.revoke_client(CLIENT_ID)
    for broken in (firefly, client(sim, time_, secret="p8e-wrong-secret-000000000000")):
        with pytest.raises(AuthExpired) as refused:
            await broken.job(job.job_id)
        shown = f"{refused.value} {refused.value!r} {refused.value.hint} {refused.value.detail}"
        assert CLIENT_SECRET not in shown and "p8e-" not in shown and "Adobe Express" in shown
    source = ImsTokenSource(
        ConnectorHttp(get_connector("adobe_express"), base_url=SANDBOX, tenant_id="t"),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    assert CLIENT_SECRET not in repr(source) and CLIENT_ID in repr(source)


async def test_the_signed_output_url_never_shows(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    job = await firefly.generate_images(FireflyGenerateRequest(prompt="secret product", width=32, height=32))
    status = await firefly.job(job.job_id)
    url = status.outputs[0].url
    query = urlsplit(url).query
    signature = query.split("X-Amz-Signature=")[1]
    assert signature not in repr(status)

    sim.fail_download(503, times=4)
    with capture_logs() as logs, pytest.raises(DesignDownloadRefused) as down:
        await firefly.export_design(job.job_id)
    time_.elapsed += timedelta(hours=1, seconds=5).total_seconds()
    with pytest.raises(DesignDownloadRefused) as expired:
        await firefly.download(url)

    assert down.value.status == 503 and expired.value.status == 403 and "may have expired" in str(expired.value)
    for error in (down.value, expired.value):
        text = f"{error} {error!r} {error.hint} {error.detail}"
        assert signature not in text and "X-Amz" not in text and query not in text
    assert logs and all(signature not in str(entry) for entry in logs)


async def test_downloads_are_capped_and_kept_to_the_output_host(time_: FakeTime) -> None:
    sim = AdobeExpressSimulator(clock=time_.now, output_padding=6_000)
    sim.add_client(CLIENT_ID, CLIENT_SECRET, "acme")
    firefly = client(sim, time_, max_download_bytes=4_096)
    job = await firefly.generate_images(FireflyGenerateRequest(prompt="heavy", width=16, height=16))

    with pytest.raises(DesignDownloadRefused, match="larger than the 4,096-byte limit"):
        await firefly.export_design(job.job_id)
    with pytest.raises(DesignDownloadRefused, match="not one this connector downloads from"):
        await firefly.download("https://attacker.example/x.jpg?X-Amz-Signature=abc")
    assert download_limits("https://firefly-api.adobe.io").allows("bucket.s3.amazonaws.com")


async def test_what_firefly_cannot_do_is_said_plainly(sim: AdobeExpressSimulator, time_: FakeTime) -> None:
    firefly = client(sim, time_)
    assets = FireflyDesignAssets(firefly)

    assert assets.lists_designs is False
    with pytest.raises(DesignOperationUnsupported, match="Listing designs"):
        await assets.list_designs()
    with pytest.raises(DesignOperationUnsupported, match="images only"):
        await assets.export_design("00000001-f1f1-4e00-8a00-000000000001", "pdf")
    assert await assets.push_brand_logo(b"\x89PNG\r\n\x1a\n", "Acme") is None
    for bad in (
        {"prompt": ""},
        {"prompt": "x" * 1025},
        {"prompt": "x", "num_variations": 5},
        {"prompt": "x", "num_variations": 2, "seeds": (1,)},
        {"prompt": "x", "width": 100},
        {"prompt": "x", "model_version": "image4_custom"},
    ):
        with pytest.raises(ValidationError):
            FireflyGenerateRequest.model_validate(bad)
    with pytest.raises(ValueError, match="job_id"):
        await firefly.job("../admin")
    assert sim.requests == []
