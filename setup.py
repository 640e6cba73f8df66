"""Maps the repository's code folders to import names under ``promptsales.*`` (ARCHITECTURE §2)."""

from setuptools import find_namespace_packages, setup

ROOTS = ("domain_core", "tools", "servers", "prompts")

packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    package_dir[f"promptsales.{root}"] = root
    packages += [f"promptsales.{root}"] + [
        f"promptsales.{root}.{name}" for name in find_namespace_packages(root, exclude=["*__pycache__*"])
    ]

setup(packages=packages, package_dir=package_dir)
