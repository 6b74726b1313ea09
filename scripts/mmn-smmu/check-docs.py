#!/usr/bin/python3
"""Check that mmn-smmu's reStructuredText documents parse cleanly (TAP).

QEMU builds its documentation with Sphinx; our build disables docs to stay
small, so this catches malformed tables and headings that would break
'make html' once the pages are in QEMU's tree.  Uses Debian's
python3-docutils.
"""
import io
import pathlib
import sys

import docutils.core

root = pathlib.Path(__file__).resolve().parents[2]
docs = sorted((root / "docs").rglob("*.rst"))
print(f"1..{len(docs)}")
failed = 0
for n, path in enumerate(docs, 1):
    err = io.StringIO()
    docutils.core.publish_doctree(
        path.read_text(),
        source_path=str(path),
        settings_overrides={"warning_stream": err, "report_level": 2,
                            "halt_level": 5})
    # Sphinx-only roles and directives are not errors here.
    problems = [line for line in err.getvalue().splitlines()
                if "(ERROR" in line or "(WARNING" in line or "(SEVERE" in line
                if "Unknown interpreted text role" not in line
                and "Unknown directive type" not in line]
    rel = path.relative_to(root)
    if problems:
        failed += 1
        print(f"not ok {n} - {rel}")
        for line in problems[:10]:
            print(f"# {line}")
    else:
        print(f"ok {n} - {rel} parses cleanly")
sys.exit(1 if failed else 0)
