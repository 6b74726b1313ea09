#!/usr/bin/python3
"""Count the results of a 'meson test' run, one per TAP subtest.

Usage: meson-results.py LOGBASE
  LOGBASE: meson's log files without extension, e.g.
  build/qemu-build/meson-logs/mmn-smmu (meson test --logbase mmn-smmu).

Meson's own summary ("Ok: / Fail: / Skipped:") counts a TAP test binary
as one test however many results it printed (mesonbuild/mtest.py,
TestHarness.summary).  The per-result view is in its JUnit log
(LOGBASE.junit.xml, JunitBuilder): one <testsuite> per test that printed
results, one <testcase> per TAP result, with a <skipped/>, <failure/> or
<error/> child for the results that did not pass.  The per-test verdict
(exit status, "Too few tests run", timeout) is in LOGBASE.json.

Rules:
- a skipped result counts as skipped, never as passed;
- a test whose verdict is bad (FAIL, ERROR: crashed, non-zero exit, fewer
  results than its plan, bail out; TIMEOUT, INTERRUPT, UNEXPECTEDPASS)
  but that reported no failed result counts one failure;
- a test that reported no result at all counts one failure.

Prints a line for each test that did not pass every result, a total,
then "counts PASSED FAILED SKIPPED" and one "failing NAME" line per
failing test.
"""
import json
import sys
import xml.etree.ElementTree as ET

BAD = {"FAIL", "ERROR", "TIMEOUT", "INTERRUPT", "UNEXPECTEDPASS"}


def subtest_counts(suite):
    passed = failed = skipped = 0
    for case in suite.findall("testcase"):
        if case.find("skipped") is not None:
            skipped += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    base = sys.argv[1]
    with open(base + ".json", encoding="utf-8") as f:
        tests = [json.loads(line) for line in f if line.strip()]
    # JunitBuilder names a TAP test's suite "<project>.<test name>".
    suites = {}
    for suite in ET.parse(base + ".junit.xml").getroot().iter("testsuite"):
        suites[suite.get("name")] = suite

    total = [0, 0, 0]
    failing = []
    if not tests:
        print("meson ran no test")
        total[1] = 1
        failing.append("meson-test")
    for t in tests:
        name, verdict = t["name"], t["result"]
        suite = next((s for n, s in suites.items()
                      if n.endswith("." + name)), None)
        p, f, s = subtest_counts(suite) if suite is not None else (0, 0, 0)
        why = ""
        if verdict in BAD and f == 0:
            f = 1
            why = f" ({verdict}, exit status {t.get('returncode')})"
        elif p + f + s == 0:
            f = 1
            why = " (ran no test)"
        if f or s:
            print(f"{name}: {p} passed, {f} failed, {s} skipped{why}")
        if f:
            failing.append(name.split(" / ", 1)[-1])
        total = [total[0] + p, total[1] + f, total[2] + s]
    print("%d meson tests, their results: %d passed, %d failed, %d skipped"
          % (len(tests), *total))
    print("counts %d %d %d" % tuple(total))
    for name in failing:
        print("failing " + name)


if __name__ == "__main__":
    main()
