"""Fault injection: error answers on chosen requests, and declined captures."""

from promptsales.domain_core.business.paypal.simulator.errors import STANDARD_ERRORS
from promptsales.domain_core.business.paypal.simulator.models import Fault
from promptsales.domain_core.business.paypal.simulator.state import SimulatorState


class FaultInjection(SimulatorState):
    """Lets a test make PayPal misbehave the way it does in production."""

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        name: str | None = None,
        message: str | None = None,
        include_token: bool = False,
        path_prefix: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """Make the next ``times`` API requests (matching ``path_prefix``) answer ``status``.

        ``after_processing`` fails them only after they took effect (PayPal's "5xx may have created it" case);
        ``include_token`` lets the faults hit the token endpoint too.
        """
        standard_name, standard_message = STANDARD_ERRORS.get(status, (f"HTTP_{status}", "Request failed."))
        self._faults.append(
            Fault(
                status=status,
                remaining=times,
                name=name or standard_name,
                message=message or standard_message,
                retry_after=retry_after,
                include_token=include_token,
                path_prefix=path_prefix,
                after_processing=after_processing,
            )
        )

    def decline_next_capture(self) -> None:
        """The next capture completes the order but its capture is DECLINED (PAYMENT.CAPTURE.DECLINED)."""
        self._decline_next_capture = True

    def _matching_fault(self, path: str, *, token: bool) -> Fault | None:
        for fault in self._faults:
            if (token and not fault.include_token) or (fault.path_prefix and not path.startswith(fault.path_prefix)):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None
