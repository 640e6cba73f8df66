"""Parameter types shared by the content tools."""

from typing import Annotated, Literal

from pydantic import Field

Brief = Annotated[
    str,
    Field(
        min_length=3,
        max_length=4000,
        description="What to say: product, audience, benefits, proof (numbers), offer and call to action.",
    ),
]
Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z_]+$",
        description="google_ads, meta, tiktok, linkedin, x, email, sms, whatsapp or push (see content://content/channel-specs).",
    ),
]
Format = Annotated[
    str,
    Field(
        min_length=1, max_length=40, pattern=r"^[a-z_]+$", description="Format of the channel, e.g. rsa, feed, post."
    ),
]
Placement = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9_]+$",
        description="Image/video placement from content://content/channel-specs, e.g. meta_feed_square.",
    ),
]
Language = Annotated[Literal["en", "es"], Field(description="Language of the copy.")]
Tone = Annotated[Literal["professional", "friendly", "bold", "playful", "urgent"], Field(description="Tone of voice.")]
BrandKitName = Annotated[
    str | None, Field(default=None, min_length=1, max_length=80, description="Brand kit name; default kit if omitted.")
]
AssetId = Annotated[
    str, Field(min_length=4, max_length=40, pattern=r"^as_[0-9A-Z]{26}$", description="Asset id (as_…).")
]
Text = Annotated[str, Field(min_length=1, max_length=20000, description="The text to analyse.")]
Labels = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]] | None,
    Field(default=None, max_length=30, description="Candidate labels; omit for the default set."),
]
