"""Parameter types shared by the content tools (those a command also carries are declared with the command)."""

from typing import Annotated

from pydantic import Field

from promptsales.domain_core.content.commands import (
    AssetId,
    Brief,
    Channel,
    Format,
    Language,
    Placement,
    Tone,
)
from promptsales.domain_core.content.commands import BrandKitName as KitName

__all__ = ["AssetId", "BrandKitName", "Brief", "Channel", "Format", "Labels", "Language", "Placement", "Text", "Tone"]

BrandKitName = Annotated[KitName | None, Field(default=None, description="Default kit if omitted.")]
Text = Annotated[str, Field(min_length=1, max_length=20000)]
Labels = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]] | None,
    Field(default=None, max_length=30, description="Omit for defaults."),
]
