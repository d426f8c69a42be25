"""Catalogue validation with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ozg_gateway.catalog import CatalogError, load_catalog
from tests.conftest import EXAMPLE_CONFIG

CATALOG = EXAMPLE_CONFIG.parent / "catalog.toml"


def test_example_catalogue_is_valid() -> None:
    catalog = load_catalog(
        CATALOG,
        connectors={"kita-fachverfahren", "standesamt", "sportamt", "aem-system", "civento"},
    )
    assert len([o for o in catalog.offers if o.channel == "pdf"]) >= 2
    assert all(o.leika_key is None for o in catalog.offers)  # never invented


BROKEN = """
[municipality]
name = "X"
ags = "123"

[[offers]]
id = "ab"
title = "A"
description = "d"
channel = "pdf"
office = { name = "o", ags = "06435019" }

[[offers]]
id = "kita"
title = "K"
description = "d"
channel = "online"
form_model = "nope"
routes = ["missing"]
office = { name = "o", ags = "06435019" }
fee = { amount_cents = -5 }
"""


def test_every_error_has_a_location(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BROKEN)
    with pytest.raises(CatalogError) as info:
        load_catalog(path, connectors=set())
    text = "\n".join(info.value.problems)
    assert "municipality > ags" in text
    assert 'offers[1] (id "kita") > fee > amount_cents' in text
    assert "pdf_form_url" in text  # the pdf offer without a form address


def test_semantic_errors_after_schema(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        BROKEN.replace('ags = "123"', 'ags = "06435019"')
        .replace('channel = "pdf"', 'channel = "pdf"\npdf_form_url = "https://x.example/a.pdf"')
        .replace("amount_cents = -5", "amount_cents = 5")
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(path, connectors={"other"})
    assert info.value.problems == [
        "offers[1] (id \"kita\") > form_model: unknown form model 'nope' (known: aem-meldung, "
        "generic, hallenbelegung, kita-anmeldung, personenstandsurkunde)",
        "offers[1] (id \"kita\") > routes[0]: no connector named 'missing' in the config",
    ]


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[municipality\n")
    with pytest.raises(CatalogError, match="TOML syntax"):
        load_catalog(path)
