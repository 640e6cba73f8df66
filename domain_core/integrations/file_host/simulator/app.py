"""Files behind pre-signed, expiring URLs (the S3-style hosts Canva and Adobe hand exports out on).

URLs carry ``X-Amz-Date`` / ``X-Amz-Expires`` / ``X-Amz-Signature`` (an HMAC of path, time and lifetime); a
download answers S3's XML errors: a second auth mechanism (an ``Authorization`` or API-key header) is refused
(400 InvalidArgument), a wrong or unknown signature is 403 SignatureDoesNotMatch, a late one 403 AccessDenied.
Shapes: shared/reference/platform_apis.md §12-13 ("pre-signed URLs", 24 h / 1 h) [~ S3 error bodies].
"""

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from promptsales.domain_core.integrations.simulator_kit import Faults

SIGNED_AT_FORMAT = "%Y%m%dT%H%M%SZ"


def s3_error(status: int, code: str, message: str) -> Response:
    """An S3-style XML error answer."""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status, media_type="application/xml")


class SignedFileHost:
    """Stores files by path and serves them to whoever holds an unexpired signed URL."""

    def __init__(
        self,
        host: str,
        *,
        key: bytes,
        clock: Callable[[], datetime],
        refused_headers: tuple[str, ...] = ("authorization",),
        requests: list[tuple[str, str, str]] | None = None,
    ) -> None:
        self.host = host
        self._key = key
        self._clock = clock
        self._refused_headers = refused_headers
        self._files: dict[str, tuple[bytes, str]] = {}
        self.faults = Faults()
        # (host, method, path); a simulator passes its own log so API calls and downloads read in order.
        self.requests: list[tuple[str, str, str]] = requests if requests is not None else []

    def put(self, path: str, content: bytes, content_type: str, *, lifetime: timedelta) -> str:
        """Store ``content`` at ``path``; its signed URL, valid for ``lifetime``."""
        self._files[path] = (content, content_type)
        return self.sign(path, lifetime=lifetime)

    def sign(self, path: str, *, lifetime: timedelta) -> str:
        """A signed URL for ``path`` from now, valid for ``lifetime``."""
        signed_at = self._clock().astimezone(UTC).strftime(SIGNED_AT_FORMAT)
        lifetime_s = str(int(lifetime.total_seconds()))
        query = urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": signed_at,
                "X-Amz-Expires": lifetime_s,
                "X-Amz-SignedHeaders": "host",
                "X-Amz-Signature": self._signature(path, signed_at, lifetime_s),
            }
        )
        return f"https://{self.host}{path}?{query}"

    def _signature(self, path: str, signed_at: str, lifetime_s: str) -> str:
        return hmac.new(self._key, f"{path}\n{signed_at}\n{lifetime_s}".encode(), hashlib.sha256).hexdigest()

    async def download(self, request: Request) -> Response:
        """``GET`` a stored file with its signed query."""
        path = request.url.path
        self.requests.append((self.host, request.method, path))
        if any(name in request.headers for name in self._refused_headers):
            return s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        fault = self.faults.take()
        if fault is not None:
            return s3_error(fault.status, "ServiceUnavailable", "Please reduce your request rate.")
        stored = self._files.get(path)
        signed_at = request.query_params.get("X-Amz-Date", "")
        lifetime_s = request.query_params.get("X-Amz-Expires", "")
        signature = request.query_params.get("X-Amz-Signature", "")
        expected = self._signature(path, signed_at, lifetime_s)
        if stored is None or not lifetime_s.isdigit() or not hmac.compare_digest(signature, expected):
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        try:
            signed = datetime.strptime(signed_at, SIGNED_AT_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        if self._clock() > signed + timedelta(seconds=int(lifetime_s)):
            return s3_error(403, "AccessDenied", "Request has expired")
        content, content_type = stored
        return Response(content, 200, headers={"Content-Length": str(len(content))}, media_type=content_type)
