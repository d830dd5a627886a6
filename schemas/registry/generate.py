#!/usr/bin/env python3
"""Generates schemas/licenses.json, the license registry, from the data
beside this script. Standard library only.

Usage: generate.py          write schemas/licenses.json
       generate.py --check  exit 1 if schemas/licenses.json differs from
                            what would be written (a test runs this)

Inputs (all beside this script; schemas/LICENSES.md explains them):

  spdx-licenses.tsv        the SPDX License List, pinned (extract.py)
  spdx-exceptions.tsv      its exceptions
  scancode-categories.tsv  ScanCode LicenseDB category of each SPDX id
  classes.json             the classes: the rights each withholds, and why
  rules.json               how a license gets its class: ScanCode category
                           to class, deprecated ids to their successor,
                           id patterns, and per-license assignments and
                           overrides; extra aliases
  curated.json             licenses scored by hand (the paper's table 1,
                           model licenses...): kept exactly as written

A license's class comes from, first to last: curated.json (a LicenseRef
names its class; an SPDX id may), rules.json `licenses`, the class of the
successor of a deprecated id, the first matching `patterns` entry, the
ScanCode category. Its withheld rights and reasons are its class's unless
curated.json, `licenses` or the pattern gives `withholds`.
"""

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "licenses.json"
CRITERIA = ["research", "commercial", "modify", "copyright_derivative", "other_license_derivative"]
REGISTRY_VERSION = 3


def tsv(name):
    rows, header = [], []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            header.append(line[1:].strip())
        elif line:
            rows.append(line.split("\t"))
    return header, rows


def fail(msg):
    sys.exit(f"generate.py: {msg}")


def build():
    spdx_header, spdx_rows = tsv("spdx-licenses.tsv")
    _, exc_rows = tsv("spdx-exceptions.tsv")
    scancode_header, cat_rows = tsv("scancode-categories.tsv")
    spdx_version = re.search(r"SPDX License List (\S+),", spdx_header[0]).group(1)
    classes = json.loads((HERE / "classes.json").read_text(encoding="utf-8"))
    rules = json.loads((HERE / "rules.json").read_text(encoding="utf-8"))
    curated = json.loads((HERE / "curated.json").read_text(encoding="utf-8"))

    for cid, c in classes.items():
        bad = set(c["withholds"]) - set(CRITERIA)
        if bad:
            fail(f"class {cid}: unknown criteria {sorted(bad)}")

    spdx = {row[0]: {"deprecated": row[1] == "1", "name": row[2]} for row in spdx_rows}
    category = {row[0]: row[2] for row in cat_rows}
    curated_by_id = {c["id"]: c for c in curated}
    for lid in list(rules["licenses"]) + list(rules["deprecated"]) + list(rules["aliases"]):
        if lid not in spdx and lid not in curated_by_id:
            fail(f"rules.json names {lid}, which is not on the SPDX list")
    patterns = [(re.compile(p["match"]), p) for p in rules["patterns"]]

    def check_class(cid, where):
        if cid not in classes:
            fail(f"{where}: unknown class {cid}")
        return cid

    def assign(lid, seen=()):
        """(class, withholds or None, source) of an SPDX id, by the rules."""
        if lid in seen:
            fail(f"deprecated ids loop: {seen}")
        if lid in curated_by_id and "class" in curated_by_id[lid]:
            return check_class(curated_by_id[lid]["class"], lid), None, None
        rule = rules["licenses"].get(lid)
        if rule:
            return check_class(rule["class"], lid), rule.get("withholds"), f"custody review: {rule['why']}"
        successor = rules["deprecated"].get(lid)
        if successor:
            cls, withholds, _ = assign(successor, seen + (lid,))
            if withholds is None and successor in curated_by_id:
                withholds = curated_by_id[successor]["withholds"]
            if withholds is not None:
                withholds = {k: v.replace(successor, lid) for k, v in withholds.items()}
            return cls, withholds, f"deprecated SPDX id, scored as {successor}"
        for rx, p in patterns:
            if rx.fullmatch(lid):
                return check_class(p["class"], lid), p.get("withholds"), f"custody review: {p['why']}"
        cat = category.get(lid)
        if cat in rules["categories"]:
            return check_class(rules["categories"][cat], lid), None, f"ScanCode category {cat}"
        fail(f"{lid}: no class (ScanCode category {cat!r}); add it to rules.json")

    def fill(withholds, lid):
        return {k: v.replace("{id}", lid) for k, v in withholds.items()}

    licenses = []
    for lid, s in spdx.items():
        cls, withholds, source = assign(lid)
        cur = curated_by_id.get(lid)
        aliases = list(rules["aliases"].get(lid, []))
        if cur:
            entry = {"id": lid, "name": cur["name"], "class": cls}
            names = list(cur.get("aliases", []))
            if s["name"] not in names and s["name"] != cur["name"]:
                names.append(s["name"])
            aliases = names + [a for a in aliases if a not in names]
            source = cur["source"]
            withholds = cur["withholds"]
        else:
            entry = {"id": lid, "name": s["name"], "class": cls}
        if aliases:
            entry["aliases"] = aliases
        if s["deprecated"]:
            entry["deprecated"] = True
        entry["source"] = source
        if withholds is not None and fill(withholds, lid) != fill(classes[cls]["withholds"], lid):
            entry["withholds"] = fill(withholds, lid)
        licenses.append(entry)
    for cur in curated:
        if cur["id"] in spdx:
            continue
        if not cur["id"].startswith("LicenseRef-"):
            fail(f"curated {cur['id']} is neither on the SPDX list nor a LicenseRef")
        cls = check_class(cur["class"], cur["id"])
        entry = {"id": cur["id"], "name": cur["name"], "class": cls}
        if cur.get("aliases"):
            entry["aliases"] = cur["aliases"]
        entry["source"] = cur["source"]
        if fill(cur["withholds"], cur["id"]) != fill(classes[cls]["withholds"], cur["id"]):
            entry["withholds"] = cur["withholds"]
        licenses.append(entry)

    ids = [e["id"].lower() for e in licenses]
    if len(ids) != len(set(ids)):
        fail("two licenses with the same id")
    for e in licenses:
        bad = set(e.get("withholds", {})) - set(CRITERIA)
        if bad:
            fail(f"{e['id']}: unknown criteria {sorted(bad)}")

    head = {
        "registry": "custody-licenses",
        "version": REGISTRY_VERSION,
        "spdx_license_list": spdx_version,
        "generated_by": "schemas/registry/generate.py; do not edit by hand",
        "sources": [spdx_header[0], scancode_header[0]],
        "criteria": CRITERIA,
    }
    return head, classes, [e[0] for e in exc_rows], licenses


def render(head, classes, exceptions, licenses):
    """JSON with one class, exception or license a line, for review."""
    out = ["{"]
    for k, v in head.items():
        out.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    out.append('  "classes": {')
    items = list(classes.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i + 1 < len(items) else ""
        out.append(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    out.append("  },")
    out.append('  "exceptions": [')
    for i, e in enumerate(exceptions):
        comma = "," if i + 1 < len(exceptions) else ""
        out.append(f"    {json.dumps(e)}{comma}")
    out.append("  ],")
    out.append('  "licenses": [')
    for i, e in enumerate(licenses):
        comma = "," if i + 1 < len(licenses) else ""
        out.append(f"    {json.dumps(e, ensure_ascii=False)}{comma}")
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv):
    text = render(*build())
    if argv[1:] == ["--check"]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(
                "schemas/licenses.json is not what schemas/registry/generate.py makes: "
                "run python3 schemas/registry/generate.py and commit the result"
            )
            return 1
        print("schemas/licenses.json is up to date")
        return 0
    if argv[1:]:
        print(__doc__)
        return 2
    OUT.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
