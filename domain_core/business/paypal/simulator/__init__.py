"""In-memory PayPal sandbox: the REST endpoints PromptSales uses, buyer actions, billing cycles, signed webhooks."""

from promptsales.domain_core.business.paypal.simulator.app import Handler as Handler
from promptsales.domain_core.business.paypal.simulator.app import PayPalSimulator as PayPalSimulator
from promptsales.domain_core.business.paypal.simulator.errors import SimulatorError as SimulatorError
from promptsales.domain_core.business.paypal.simulator.oauth import TOKEN_LIFETIME_S as TOKEN_LIFETIME_S
from promptsales.domain_core.business.paypal.simulator.records import DeliveryAttempt as DeliveryAttempt
from promptsales.domain_core.business.paypal.simulator.records import EmittedEvent as EmittedEvent
from promptsales.domain_core.business.paypal.simulator.records import RecordedRequest as RecordedRequest
from promptsales.domain_core.business.paypal.simulator.state import Deliver as Deliver
