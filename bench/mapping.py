"""XFall mapping throughput: build + XSD validation versus build (serialisation) only.

    .venv/bin/python bench/mapping.py [--cases 3000]

Runs on one core (this process). Target (issue 4): >= 1,000 cases/s with validation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from ozg_gateway.config import default_specs_dir  # noqa: E402
from ozg_gateway.mappings.xfall import build_xfall  # noqa: E402
from ozg_gateway.specs import XFALL_XSD, xml_schema  # noqa: E402
from tests.mappings.cases import OFFERS, case_document  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=3000)
    args = parser.parse_args()
    specs = default_specs_dir()
    if specs is None:
        sys.exit("needs the specs directory (../shared/specs)")
    docs = [
        case_document(OFFERS[i % len(OFFERS)], case_number=f"MTL-2026-{i:08d}")
        for i in range(args.cases)
    ]
    codes = ["002" if d["service"]["id"] == "aem-meldung" else None for d in docs]
    schema = xml_schema(specs, XFALL_XSD)

    start = time.perf_counter()
    for doc, code in zip(docs, codes, strict=True):
        build_xfall(doc, klarschiff_category=code)
    build_only = args.cases / (time.perf_counter() - start)

    start = time.perf_counter()
    for doc, code in zip(docs, codes, strict=True):
        xml = build_xfall(doc, klarschiff_category=code)
        if not schema.validate(etree.fromstring(xml)):
            raise SystemExit(f"invalid XFall: {schema.error_log}")
    validated = args.cases / (time.perf_counter() - start)

    print(f"mapping benchmark: {args.cases} cases (4 offers), XFall 2.0, one core")
    print(f"  build only               {build_only:8.0f} cases/s")
    print(f"  build + XSD validation   {validated:8.0f} cases/s  (target >= 1000)")
    print(f"  ratio validated/build    {validated / build_only:8.2f}")


if __name__ == "__main__":
    main()
