"""Errors: the control methods' SimulatorError, and PayPal-shaped API and OAuth error answers."""

from collections.abc import Sequence

# Standard names and messages of PayPal's error answers. https://developer.paypal.com/api/rest/responses/
STANDARD_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The server does not support the request payload's media type."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
    502: ("BAD_GATEWAY", "The upstream server returned an invalid response."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
    504: ("GATEWAY_TIMEOUT", "The server did not answer in time."),
}


class SimulatorError(Exception):
    """A control method was used on an unknown object or in a state where the action cannot happen."""


class ApiError(Exception):
    """Becomes PayPal's error answer {name, message, debug_id, details[], links}."""

    def __init__(
        self,
        status: int,
        *,
        name: str | None = None,
        message: str | None = None,
        details: Sequence[dict[str, str]] = (),
    ) -> None:
        standard_name, standard_message = STANDARD_ERRORS.get(status, (f"HTTP_{status}", "Request failed."))
        super().__init__(name or standard_name)
        self.status = status
        self.name = name or standard_name
        self.message = message or standard_message
        self.details = list(details)


class OAuthError(Exception):
    """Becomes the token endpoint's OAuth error answer {error, error_description}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


def issue(path: str, issue: str, description: str, *, location: str = "body") -> dict[str, str]:
    """One entry of an error answer's ``details[]``."""
    return {"field": path, "location": location, "issue": issue, "description": description}


def invalid(*issues: dict[str, str]) -> ApiError:
    """400 INVALID_REQUEST listing ``issues``."""
    return ApiError(400, details=list(issues))


def not_found(path: str, description: str, *, location: str = "path") -> ApiError:
    """404 RESOURCE_NOT_FOUND for the id at ``path``."""
    return ApiError(404, details=[issue(path, "INVALID_RESOURCE_ID", description, location=location)])


def unprocessable(issue: str, description: str) -> ApiError:
    """422 UNPROCESSABLE_ENTITY: the object's state does not allow the action."""
    return ApiError(422, details=[{"issue": issue, "description": description}])
