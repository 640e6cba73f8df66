"""Webhook transmissions: signing them with the simulator's certificate, and delivering them in order."""

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

from promptsales.domain_core.business.paypal import signing
from promptsales.domain_core.business.paypal.simulator.errors import SimulatorError
from promptsales.domain_core.business.paypal.simulator.formats import iso
from promptsales.domain_core.business.paypal.simulator.records import DeliveryAttempt, EmittedEvent
from promptsales.domain_core.business.paypal.simulator.state import SimulatorState


class WebhookDelivery(SimulatorState):
    """Signs and records each event, then delivers it (now, or queued after the API answer) to ``deliver``."""

    @property
    def cert_url(self) -> str:
        """Where this simulator publishes the certificate its webhook signatures verify against."""
        return f"{self.api_base_url}/v1/notifications/certs/{self.cert_id}"

    @property
    def certificate_pem(self) -> bytes:
        """The PEM certificate served at ``cert_url``."""
        return self._identity.certificate_pem

    @property
    def _identity(self) -> signing.SigningIdentity:
        # Made on first use: RSA key generation is the slowest thing here and many runs never sign anything.
        if self._identity_cache is None:
            self._identity_cache = signing.SigningIdentity.generate(
                common_name="messageverificationcerts.sandbox.paypal.com", now=self.clock()
            )
        return self._identity_cache

    def _transmit(self, event: dict[str, Any], now: datetime) -> EmittedEvent:
        """Sign and record one webhook transmission of ``event``."""
        raw_body = json.dumps(event, separators=(",", ":")).encode()
        transmission_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        transmission_time = iso(now)
        message = signing.transmission_message(
            transmission_id=transmission_id,
            transmission_time=transmission_time,
            webhook_id=self.webhook_id,
            raw_body=raw_body,
        )
        headers = {
            "Content-Type": "application/json",
            signing.AUTH_ALGO: signing.SHA256_WITH_RSA,
            signing.CERT_URL: self.cert_url,
            signing.TRANSMISSION_ID: transmission_id,
            signing.TRANSMISSION_SIG: self._identity.sign(message),
            signing.TRANSMISSION_TIME: transmission_time,
        }
        emitted = EmittedEvent(headers=headers, raw_body=raw_body, event=json.loads(raw_body))
        self.events.append(emitted)
        self._transmissions[transmission_id] = emitted
        return emitted

    async def redeliver(self, event_id: str, times: int = 1) -> list[DeliveryAttempt]:
        """Send an emitted event again, byte for byte with its original headers (PayPal's retry/resend)."""
        emitted = next((e for e in self.events if e.id == event_id), None)
        if emitted is None:
            raise SimulatorError(f"no event {event_id} was emitted")
        if self.deliver is None:
            raise SimulatorError("the simulator has no deliver callback")
        return [await self._deliver_one(emitted) for _ in range(times)]

    async def drain(self) -> None:
        """Wait until the webhooks triggered by API calls have been delivered."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    async def _send(self, emitted: list[EmittedEvent]) -> None:
        # Without a receiver the events are only recorded (tests read ``events``; PayPal would retry later).
        if self.deliver is None:
            return
        for event in emitted:
            await self._deliver_one(event)

    async def _send_now(self, emitted: list[EmittedEvent]) -> None:
        """Deliver before returning, after the deliveries already queued, so receivers see emission order."""
        tail = self._tail
        if tail is not None and not tail.done() and asyncio.current_task() not in self._pending:
            await tail
        await self._send(emitted)

    def _send_later(self, emitted: list[EmittedEvent]) -> None:
        """Queue delivery for after the API answer, like PayPal.

        A receiver that needs locks the API caller still holds (its transaction is waiting for this answer)
        would otherwise deadlock against it.
        """
        if self.deliver is None or not emitted:
            return
        previous = self._tail

        async def run() -> None:
            if previous is not None:
                await previous
            await self._send(emitted)

        task = asyncio.get_running_loop().create_task(run())
        self._tail = task
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver_one(self, emitted: EmittedEvent) -> DeliveryAttempt:
        transmission_id = emitted.headers[signing.TRANSMISSION_ID]
        try:
            if self.deliver is None:
                raise SimulatorError("the simulator has no deliver callback")
            status = await self.deliver(dict(emitted.headers), emitted.raw_body)
        except Exception as exc:  # a crashing receiver is a failed delivery to PayPal, not an API failure
            attempt = DeliveryAttempt(emitted.id, transmission_id, None, f"{type(exc).__name__}: {exc}")
        else:
            attempt = DeliveryAttempt(emitted.id, transmission_id, status)
        self.deliveries.append(attempt)
        return attempt
