"""content_import_design and content_push_brand_kit through the gateway (SQLite): a connected Canva design becomes
a PNG draft in the library (an unchanged design adds nothing, a changed one adds a version and goes back to review),
and a brand kit's logo reaches Canva once."""

from promptsales.domain_core.integrations.canva.simulator import CanvaSimulator
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm
from tests.servers.test_content_creatives import logo_base64

PNG = b"\x89PNG\r\n\x1a\n"


async def test_a_design_is_imported_once_and_versioned_when_it_changes(crm: Crm, runtime: Runtime) -> None:
    integrations = Crm(crm.client, prefix="integrations_")
    content = Crm(crm.client, prefix="content_")
    connection = await integrations.ok("connect", platform="canva")
    designs = (await integrations.ok("list_designs", platform="canva"))["items"]
    banner = next(d for d in designs if d["title"] == "Spring launch: web banner")

    first = await content.ok("import_design", platform="canva", design_id=banner["design_id"])
    asset = first["asset"]
    assert (asset["kind"], asset["status"], asset["title"]) == ("image", "draft", "Spring launch: web banner")
    assert (first["mime_type"], first["width"], first["height"]) == ("image/png", 1200, 628)
    assert len(asset["versions"]) == 1

    again = await content.ok("import_design", platform="canva", design_id=banner["design_id"])
    assert again["asset"]["id"] == asset["id"] and len(again["asset"]["versions"]) == 1

    await content.ok("submit_asset", asset_id=asset["id"])
    simulator = runtime.integrations.sandbox.simulator("canva")
    assert isinstance(simulator, CanvaSimulator)
    simulator.edit_design(connection["account_id"], banner["design_id"], width=1080, height=1080)
    changed = await content.ok("import_design", platform="canva", design_id=banner["design_id"])
    assert changed["asset"]["id"] == asset["id"]
    assert (len(changed["asset"]["versions"]), changed["asset"]["status"]) == (2, "draft")
    assert (changed["width"], changed["height"]) == (1080, 1080)
    listed = await content.ok("list_assets", kind="image")
    assert [a["id"] for a in listed["items"]] == [asset["id"]]


async def test_importing_from_an_unconnected_platform_or_an_unknown_design_says_what_to_do(crm: Crm) -> None:
    content = Crm(crm.client, prefix="content_")
    assert "integrations_connect" in await content.error("import_design", platform="canva", design_id="DAG00000001")
    await Crm(crm.client, prefix="integrations_").ok("connect", platform="canva")
    message = await content.error("import_design", platform="canva", design_id="DAGnope")
    assert "Canva" in message
    assert "design_id" in await content.error("import_design", platform="canva", design_id="../../etc")


async def test_a_brand_kits_logo_reaches_canva_once_and_adobe_says_it_takes_none(crm: Crm, runtime: Runtime) -> None:
    content = Crm(crm.client, prefix="content_")
    integrations = Crm(crm.client, prefix="integrations_")
    connection = await integrations.ok("connect", platform="canva")
    assert "brand kit" in (await content.error("push_brand_kit", platform="canva")).lower()  # no kit yet
    await content.ok("set_brand_kit", name="Plain", voice="Plain and clear.")
    assert "has no logo" in await content.error("push_brand_kit", platform="canva", brand_kit="Plain")
    await content.ok("set_brand_kit", name="Acme", colors=["#0B5FFF"], logo_png_base64=logo_base64())

    first = await content.ok("push_brand_kit", platform="canva", brand_kit="Acme")
    assert (first["brand_kit"], first["colours_pushed"]) == ("Acme", False) and first["logo_asset_id"]
    again = await content.ok("push_brand_kit", platform="canva", brand_kit="Acme")
    assert again["logo_asset_id"] == first["logo_asset_id"]
    simulator = runtime.integrations.sandbox.simulator("canva")
    assert isinstance(simulator, CanvaSimulator)
    uploads = simulator.account(connection["account_id"]).assets
    assert list(uploads) == [first["logo_asset_id"]] and uploads[first["logo_asset_id"]]["bytes"].startswith(PNG)

    await integrations.ok("connect", platform="adobe_express")
    assert "takes no brand logo" in await content.error("push_brand_kit", platform="adobe_express", brand_kit="Acme")
    assert "brand kit" in (await content.error("push_brand_kit", platform="canva", brand_kit="Nope")).lower()
