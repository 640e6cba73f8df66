"""Composition root of the CRM context."""

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory


def build_crm(uow: UnitOfWorkFactory) -> CrmFacade:
    """The CRM facade over the process's unit-of-work factory."""
    return CrmFacade(uow)
