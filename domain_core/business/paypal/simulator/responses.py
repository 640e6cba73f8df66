"""HTTP answers the way PayPal shapes them: a paypal-debug-id on each, JSON error bodies with an info link."""

import json

from starlette.responses import Response

from promptsales.domain_core.business.paypal.simulator.errors import ApiError
from promptsales.domain_core.business.paypal.simulator.models import Fault

INFORMATION_LINK = "https://developer.paypal.com/api/rest/responses/#link-errorresponses"


def bytes_response(status: int, payload: bytes, debug_id: str) -> Response:
    headers = {"paypal-debug-id": debug_id}
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(payload, status_code=status, headers=headers, media_type="application/json")


def error_response(error: ApiError, debug_id: str) -> Response:
    body = {
        "name": error.name,
        "message": error.message,
        "debug_id": debug_id,
        "details": error.details,
        "links": [{"href": INFORMATION_LINK, "rel": "information_link", "method": "GET"}],
    }
    return bytes_response(error.status, json.dumps(body).encode(), debug_id)


def fault_response(fault: Fault, debug_id: str) -> Response:
    response = error_response(ApiError(fault.status, name=fault.name, message=fault.message), debug_id)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response
