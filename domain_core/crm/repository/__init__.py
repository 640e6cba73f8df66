"""CRM persistence: every query and write of the context, always scoped to the unit's tenant.

Services call these functions and never touch the session. The flushing rule lives here: every write
reaches the database when the function returns, so any later query in the same unit of work sees it
(a lead is never classified without the organization written a moment before).

Rows are locked in one order — organization, contact, lead, flow run — so concurrent writers wait for each
other instead of deadlocking. A locking read always reloads the row (populate_existing): an earlier,
unlocked read in the same unit must not hide what a concurrent writer committed before the lock.
"""

from promptsales.domain_core.crm.repository import (
    contacts,
    flow_runs,
    interactions,
    leads,
    organizations,
    segments,
    tenant_settings,
)

__all__ = ["contacts", "flow_runs", "interactions", "leads", "organizations", "segments", "tenant_settings"]
