#!/usr/bin/env python3
"""Extracts the pinned license data that generate.py reads, from the two
packages it comes from. Standard library only.

Usage: extract.py IDENTIFIERS_RS SCANCODE_INDEX_JSON

IDENTIFIERS_RS       src/identifiers.rs of the crates.io crate `spdx`
                     0.13.6 (`cargo download spdx@0.13.6`, or
                     ~/.cargo/registry/src/*/spdx-0.13.6 after a build
                     that uses it): the SPDX License List 3.29.0, ids,
                     full names, deprecation flags and exception ids.
SCANCODE_INDEX_JSON  license_expression/data/scancode-licensedb-index.json
                     of the PyPI package `license-expression` 30.4.4
                     (`pip download --no-deps license-expression==30.4.4`):
                     the ScanCode LicenseDB index, with a `category` for
                     each license and the SPDX ids it covers.

Writes, beside this script:

  spdx-licenses.tsv        id, deprecated (0/1), full name
  spdx-exceptions.tsv      id, deprecated (0/1)
  scancode-categories.tsv  SPDX id, ScanCode key, ScanCode category, for
                           the ids of the SPDX list that ScanCode maps

Run it again, with newer packages, to move to a newer SPDX list; then
run generate.py and review what changed.
"""

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(identifiers_rs, index_json):
    text = Path(identifiers_rs).read_text(encoding="utf-8")
    version = re.search(r'pub const VERSION: &str = "([^"]+)";', text).group(1)
    licenses_part, exceptions_part = text.split("pub const EXCEPTIONS", 1)
    licenses = re.findall(
        r'name: "([^"]+)",\s*full_name: r#"(.*?)"#,\s*index: \d+,\s*flags: ([^,]+),',
        licenses_part,
        re.S,
    )
    exceptions = re.findall(r'name: "([^"]+)",\s*index: \d+,\s*flags: ([^,]+),', exceptions_part)
    # NOASSERTION is a value of SPDX documents, not a license of the list.
    licenses = [lic for lic in licenses if lic[0] != "NOASSERTION"]
    source = f"# SPDX License List {version}, from src/identifiers.rs of the crates.io crate spdx 0.13.6\n"
    with open(HERE / "spdx-licenses.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write(source)
        f.write("# id\tdeprecated\tname\n")
        for lid, name, flags in licenses:
            name = " ".join(name.split())
            f.write(f"{lid}\t{int('IS_DEPRECATED' in flags)}\t{name}\n")
    with open(HERE / "spdx-exceptions.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write(source)
        f.write("# id\tdeprecated\n")
        for eid, flags in exceptions:
            f.write(f"{eid}\t{int('IS_DEPRECATED' in flags)}\n")

    index = json.loads(Path(index_json).read_text(encoding="utf-8"))
    by_spdx = {}
    # An SPDX license id ScanCode files as an exception (such as
    # MPL-2.0-no-copyleft-exception) is taken from it when no other
    # entry covers it.
    for entry in sorted(index, key=lambda e: bool(e.get("is_exception"))):
        keys = [entry.get("spdx_license_key")] + list(entry.get("other_spdx_license_keys") or [])
        for key in keys:
            if key:
                by_spdx.setdefault(key.lower(), (entry["license_key"], entry["category"]))
    with open(HERE / "scancode-categories.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write(
            "# ScanCode LicenseDB categories, from license_expression/data/scancode-licensedb-index.json"
            " of the PyPI package license-expression 30.4.4\n"
        )
        f.write("# SPDX id\tScanCode key\tcategory\n")
        for lid, _, _ in licenses:
            hit = by_spdx.get(lid.lower())
            if hit:
                f.write(f"{lid}\t{hit[0]}\t{hit[1]}\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
