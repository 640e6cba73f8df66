"""Content tasks: brand kits, copy, lint and rewrite, images, the review workflow, classification and designs."""

from evals.agents.fixtures import BRIEF, REVIEWER
from evals.agents.spec import CheckContext, Step, Task, need

BAD_SMS = "GUARANTEED lowest prices, cheap!!! Buy now 🎉🎉🎉"


async def check_brand_kit(ctx: CheckContext) -> None:
    kit = await ctx.read("content_get_brand_kit", name="Northwind")
    body = kit.get("kit", kit)
    colors = [c.upper() for c in body["colors"]]
    need(colors[:2] == ["#0B5FFF", "#FFB800"], f"colours {colors}")
    need("cheap" in [w.lower() for w in body["banned_words"]], "banned word missing")
    need("Terms apply." in body["required_phrases"], "disclaimer missing")
    default = await ctx.read("content_get_brand_kit")
    need(default.get("kit", default)["name"] == "Northwind", "not the default kit")


async def check_rsa(ctx: CheckContext) -> None:
    assets = (await ctx.read("content_list_assets", kind="copy", channel="google_ads"))["items"]
    need(len(assets) == 3, f"{len(assets)} Google Ads copy assets, expected 3")
    need({a["status"] for a in assets} == {"draft"}, "assets are not drafts")
    call = ctx.last_ok("content_generate_copy")
    need(call.arguments.get("language") == "es" and call.arguments.get("format") == "rsa", "not Spanish RSA")


async def check_rewrite(ctx: CheckContext) -> None:
    fixed = ctx.last_ok("content_rewrite_copy").data or {}
    need(fixed["variant"]["lint"]["ok"] is True, "the rewritten copy still fails lint")
    need(ctx.last_ok("content_rewrite_copy").arguments.get("channel") == "sms", "not linted as SMS")


async def check_image(ctx: CheckContext) -> None:
    images = (await ctx.read("content_list_assets", kind="image"))["items"]
    need(len(images) == 1, f"{len(images)} images in the library, expected 1")
    need(ctx.last_ok("content_generate_image").arguments.get("placement") == "meta_feed_square", "wrong placement")


async def _status(ctx: CheckContext, asset_id: str) -> str:
    return str((await ctx.read("content_get_asset", asset_id=asset_id))["status"])


async def check_submitted(ctx: CheckContext) -> None:
    status = await _status(ctx, ctx.saved["copy"]["variants"][0]["asset_id"])
    need(status == "in_review", f"asset is {status}, not in_review")


async def check_approved(ctx: CheckContext) -> None:
    status = await _status(ctx, ctx.saved["copy"]["variants"][0]["asset_id"])
    need(status == "approved", f"asset is {status}, not approved")


async def check_rejected(ctx: CheckContext) -> None:
    asset = await ctx.read("content_get_asset", asset_id=ctx.saved["copy"]["variants"][0]["asset_id"])
    need(asset["status"] == "rejected", f"asset is {asset['status']}, not rejected")
    need("disclaimer" in str(asset).lower(), "the reason (missing disclaimer) was not recorded")


async def check_classified(ctx: CheckContext) -> None:
    call = ctx.last_ok("content_classify_text")
    need("cancel" in call.arguments.get("text", "").lower(), "classified some other text")


async def check_design_import(ctx: CheckContext) -> None:
    images = (await ctx.read("content_list_assets", kind="image"))["items"]
    need(len(images) == 1, f"{len(images)} images, expected the imported design")
    call = ctx.last_ok("content_import_design")
    need(call.arguments.get("platform") == "canva", "not imported from Canva")


async def check_ai_settings(ctx: CheckContext) -> None:
    ctx.last_ok("content_get_ai_settings")
    need(not ctx.ok_calls("content_set_ai_provider"), "the provider was changed; the user only asked")


def _copy_for_review(actor: str | None) -> tuple[Step, ...]:
    """A Meta feed copy draft (``copy``) written by ``actor`` (None: the agent itself) and sent for review."""
    return (
        Step(
            "content_generate_copy",
            {"brief": BRIEF, "channel": "meta", "format": "feed", "language": "es", "variants": 1},
            save="copy",
            actor=actor,
        ),
        Step("content_submit_asset", {"asset_id": "$copy.variants.0.asset_id"}, actor=actor),
    )


TASKS = [
    Task(
        id="content-brand-kit",
        context="content",
        request=(
            "Set up our brand kit 'Northwind' and make it the default: colours #0B5FFF then #FFB800, never say "
            "'cheap', every ad must include 'Terms apply.', voice: plain, warm and confident."
        ),
        path=(
            Step(
                "content_set_brand_kit",
                {
                    "name": "Northwind",
                    "colors": ["#0B5FFF", "#FFB800"],
                    "banned_words": ["cheap"],
                    "required_phrases": ["Terms apply."],
                    "voice": "Plain, warm and confident.",
                    "is_default": True,
                },
            ),
        ),
        check=check_brand_kit,
    ),
    Task(
        id="content-google-rsa-es",
        context="content",
        request="Write 3 Google responsive search ad variants in Spanish for: " + BRIEF,
        path=(
            Step(
                "content_generate_copy",
                {"brief": BRIEF, "channel": "google_ads", "format": "rsa", "language": "es", "variants": 3},
            ),
        ),
        check=check_rsa,
    ),
    Task(
        id="content-fix-sms",
        context="content",
        request=f'Is this SMS OK under our brand rules? If not, fix it: "{BAD_SMS}"',
        setup=(
            Step(
                "content_set_brand_kit",
                {"name": "Acme", "banned_words": ["cheap"], "required_phrases": ["Terms apply."], "is_default": True},
            ),
        ),
        path=(
            Step("content_check_copy", {"copy": {"text": BAD_SMS}, "channel": "sms", "format": "text"}),
            Step("content_rewrite_copy", {"copy": {"text": BAD_SMS}, "channel": "sms", "format": "text"}),
        ),
        check=check_rewrite,
    ),
    Task(
        id="content-feed-image",
        context="content",
        request="Make a square Facebook feed image for the spring promo: 20% off the annual plan, try it free.",
        path=(
            Step(
                "content_generate_image",
                {"brief": "Spring promo: 20% off the annual plan, try it free", "placement": "meta_feed_square"},
            ),
        ),
        check=check_image,
    ),
    Task(
        id="content-submit-draft",
        context="content",
        request="Send the Facebook ad draft we wrote for review.",
        setup=(
            Step(
                "content_generate_copy",
                {"brief": BRIEF, "channel": "meta", "format": "feed", "language": "es", "variants": 1},
                save="copy",
            ),
        ),
        path=(
            Step("content_list_assets", {"status": "draft"}, save="drafts"),
            Step("content_submit_asset", {"asset_id": "$drafts.items.0.id"}),
        ),
        check=check_submitted,
    ),
    Task(
        id="content-approve-review",
        context="content",
        request="I reviewed the Facebook ad copy waiting for review: it's fine, approve it.",
        setup=_copy_for_review("copywriter-leo"),
        path=(
            Step("content_list_assets", {"status": "in_review"}, save="queue"),
            Step("content_approve_asset", {"asset_id": "$queue.items.0.id", "note": "Reviewed, fine."}),
        ),
        check=check_approved,
    ),
    Task(
        id="content-reject-review",
        context="content",
        request="Reject the ad copy that's waiting for review: it lacks the legal disclaimer.",
        setup=_copy_for_review("copywriter-leo"),
        path=(
            Step("content_list_assets", {"status": "in_review"}, save="queue"),
            Step("content_reject_asset", {"asset_id": "$queue.items.0.id", "note": "Missing the legal disclaimer."}),
        ),
        check=check_rejected,
    ),
    Task(
        id="content-classify-email",
        context="content",
        request=(
            "What does this customer want? \"Hi, we'd like to cancel our subscription at the end of the month, "
            'the tool is too expensive for us."'
        ),
        path=(
            Step(
                "content_classify_text",
                {
                    "text": "Hi, we'd like to cancel our subscription at the end of the month, the tool is too "
                    "expensive for us."
                },
            ),
        ),
        check=check_classified,
    ),
    Task(
        id="content-import-canva",
        context="content",
        request="Bring our latest Canva design into the content library.",
        setup=(Step("integrations_connect", {"platform": "canva"}),),
        path=(
            Step("integrations_list_designs", {"platform": "canva"}, save="designs"),
            Step("content_import_design", {"platform": "canva", "design_id": "$designs.items.0.design_id"}),
        ),
        check=check_design_import,
    ),
    Task(
        id="content-which-ai",
        context="content",
        request="Which AI provider and model writes our ad copy?",
        path=(Step("content_get_ai_settings"),),
        check=check_ai_settings,
    ),
]

__all__ = ["REVIEWER", "TASKS"]
