"""content_import_design: a connected Canva design becomes a PNG draft in the library; an unchanged design adds
nothing, a changed one adds a version and goes back to review (through the gateway, SQLite)."""

from promptsales.domain_core.integrations.canva.simulator import CanvaSimulator
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

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
