"""Route handler for POST /v1/notifications/verify-webhook-signature."""

import json
from typing import Any

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.simulator.delivery import WebhookDelivery
from promptsales.domain_core.business.paypal.simulator.errors import invalid, issue
from promptsales.domain_core.business.paypal.simulator.models import Call
from promptsales.domain_core.business.paypal.simulator.validation import read_text


class WebhookVerification(WebhookDelivery):
    """Confirms a delivery only when it is one this simulator signed and sent, unaltered."""

    def _verify(self, call: Call) -> tuple[int, Any]:
        # https://developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature : FAILURE is still HTTP 200.
        body = call.body
        issues: list[dict[str, str]] = []
        fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        values = {key: read_text(body, key, f"/{key}", issues, required=True, max_length=4096) for key in fields}
        event = body.get("webhook_event")
        if not isinstance(event, dict):
            issues.append(
                issue("/webhook_event", "MISSING_REQUIRED_PARAMETER", "A required field / parameter is missing.")
            )
        if issues:
            raise invalid(*issues)
        sent = self._transmissions.get(str(values["transmission_id"]))
        genuine = (
            sent is not None
            and values["webhook_id"] == self.webhook_id
            and values["auth_algo"] == signing.SHA256_WITH_RSA
            and values["cert_url"] == self.cert_url
            and values["transmission_time"] == sent.headers[signing.TRANSMISSION_TIME]
            and signing.verify_signature(
                self.certificate_pem,
                signing.transmission_message(
                    transmission_id=str(values["transmission_id"]),
                    transmission_time=str(values["transmission_time"]),
                    webhook_id=str(values["webhook_id"]),
                    raw_body=sent.raw_body,
                ),
                str(values["transmission_sig"]),
            )
            and event == json.loads(sent.raw_body)
        )
        return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}
