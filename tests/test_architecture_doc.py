"""docs/architecture.md: what it says each package may import is what the layer contract
(.importlinter, checked by `make test`) allows."""

import configparser
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOMAIN_APPS = {"runs", "rollouts", "provisioning", "webhooks", "tenants"}


def _layers() -> list[set[str]]:
    contracts = configparser.ConfigParser()
    contracts.read(REPO_ROOT / ".importlinter")
    lines = contracts["importlinter:contract:layers"]["layers"].split("\n")
    return [set(line.split(" | ")) for line in lines if line.strip()]


def _may_import_sentences() -> dict[str, str]:
    """Each package's paragraph (`**`pkg/`** ...`) and what its 'may import' sentence names."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    packages = text.split("## The packages", 1)[1].split("\n## ", 1)[0]
    sentences = {}
    for paragraph in packages.split("\n\n"):
        found = re.match(r"\*\*`([a-z_]+)/`\*\*", paragraph)
        if not found:
            continue
        flat = " ".join(paragraph.split())
        said = re.search(r"[Mm]ay import (.*?)(?:\.\s|\.$)", flat)
        if said:
            sentences[found[1]] = said[1]
    return sentences


def test_each_package_may_import_what_the_layer_contract_allows():
    """It said `tenants/` 'may import `core` and below' (and the same of every package above):
    `audit/` sits between them, and tenants, webhooks, provisioning, runs, rollouts, api and
    connect all record their changes with `audit_record`, as the document's own table of where a
    change belongs asks. A reader who believed the sentence kept a change's audit out of its
    service."""
    layers = _layers()
    index = {package: n for n, layer in enumerate(layers) for package in layer}
    sentences = _may_import_sentences()

    checked = 0
    for package, said in sentences.items():
        if package not in index or "and below" not in said:
            continue
        named = {name for name in re.findall(r"`([a-z_]+)`", said) if name in index}
        if "the domain apps" in said:
            named |= DOMAIN_APPS
        lowest = max(index[name] for name in named)
        covered = named | {p for p, n in index.items() if n > lowest}
        allowed = {p for p, n in index.items() if n > index[package]}
        assert allowed <= covered, (package, sorted(allowed - covered))
        checked += 1
    assert checked >= 7
