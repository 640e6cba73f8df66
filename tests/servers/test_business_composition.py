"""The business context is wired into the rest visibly: building it changes nothing shared."""

from pathlib import Path

from promptsales.domain_core.business.bootstrap import build_business
from promptsales.domain_core.business.service.metering import BusinessMeter
from promptsales.domain_core.infrastructure.db import create_engine
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from tests.servers.conftest import database_settings


async def test_building_the_business_context_leaves_the_shared_factory_alone(
    tmp_path: Path, migrated_template: Path
) -> None:
    settings = database_settings(tmp_path, migrated_template)
    engine = create_engine(settings)
    try:
        factory = UnitOfWorkFactory(engine)
        business = build_business(factory, settings)
        # The meter is handed back for the composition root (servers/runtime.py) to plug in.
        assert factory.usage_meter is None
        assert isinstance(business.meter, BusinessMeter)
        await business.aclose()
    finally:
        await engine.dispose()
