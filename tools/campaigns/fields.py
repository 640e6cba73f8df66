"""Parameter types shared by the campaigns tools: the command's own field types, described once for the model."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from promptsales.domain_core.campaigns.commands import CampaignId as CampaignIdValue
from promptsales.domain_core.campaigns.commands import ChannelId as ChannelIdValue
from promptsales.domain_core.campaigns.commands import Reason as ReasonText
from promptsales.domain_core.campaigns.model.plan import Money
from promptsales.domain_core.shared.decimals import decimal_schema

MoneyValue = Annotated[Money, decimal_schema(minimum=0, maximum=100_000_000)]

CampaignId = Annotated[CampaignIdValue, Field()]
ChannelId = Annotated[ChannelIdValue, Field(description="Plan channel, e.g. google_search.")]
Reason = Annotated[ReasonText, Field()]
OptionalReason = Annotated[ReasonText | None, Field(default=None)]
ConfirmationToken = Annotated[str, Field(min_length=8, max_length=100, description="From the preview.")]
Amount = Annotated[MoneyValue | None, Field(default=None, description="e.g. 15000.")]
Cap = Annotated[MoneyValue | None, Field(default=None, description="Omit to lift the cap.")]
Currency = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]
DailyBudget = Annotated[
    Decimal,
    Field(gt=0, le=Decimal("10000000"), max_digits=12, decimal_places=2),
    decimal_schema(
        minimum=0,
        maximum=10_000_000,
        exclusive_minimum=True,
        description="e.g. 250.",
    ),
]
TargetNumber = Annotated[
    Decimal,
    Field(gt=0, le=Decimal("1000000000")),
    decimal_schema(minimum=0, maximum=1_000_000_000, exclusive_minimum=True),
]
TargetValue = Annotated[TargetNumber | None, Field(default=None, description="e.g. 300 (leads).")]
ChangeFactor = Annotated[
    Decimal,
    Field(ge=Decimal("1.1"), le=Decimal("100")),
    decimal_schema(
        minimum=1.1,
        maximum=100,
        description="Largest budget step (new/old) without confirmation.",
    ),
]
