"""The wheel holds only ``promptsales/`` and its console script runs from a fresh virtual environment."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("promptsales-*.whl")
    return built


def test_wheel_contains_only_the_promptsales_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    dist_info = {t for t in top_level if t.endswith(".dist-info")}
    assert top_level - dist_info == {"promptsales"}
    for root in ("domain_core", "tools", "servers", "prompts"):
        assert f"promptsales/{root}/py.typed" in names
    # Data the code loads at run time travels with it.
    assert "promptsales/domain_core/crm/model/default_scoring_rules.json" in names
    assert "promptsales/domain_core/crm/model/default_flows/bant_qualification.json" in names
    assert any(n.startswith("promptsales/domain_core/infrastructure/migrations/versions/") for n in names)
    assert "promptsales/domain_core/infrastructure/migrations/script.py.mako" in names
    assert not any("tests/" in n or n.startswith("evals/") for n in names)


def test_console_script_runs_from_a_fresh_virtualenv(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Dependencies come from the test environment's site-packages as a plain path entry: its .pth files
    # (including this checkout's editable install) are NOT processed, so promptsales must come from the wheel.
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = env_dir / "bin" / "promptsales"
    assert script.exists(), "pip did not install the console script from the wheel's entry points"
    env = {**os.environ, "PROMPTSALES_DATA_DIR": str(tmp_path / "data"), "PYTHONNOUSERSITE": "1"}
    where = subprocess.run(
        [str(python), "-c", "import promptsales.servers.cli as m; print(m.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    assert where.startswith(str(site)), where
    help_text = subprocess.run([str(script), "--help"], check=True, capture_output=True, text=True, env=env).stdout
    for command in ("serve", "db", "demo", "crm"):
        assert command in help_text
    subprocess.run([str(script), "db", "upgrade"], check=True, capture_output=True, text=True, env=env, timeout=120)
    assert (tmp_path / "data" / "promptsales.db").exists()
