#!/usr/bin/python3
"""The security suite: ml_ext probed by hostile and victim roles.

Runs every function named test_* in every module test/security/test_*.py, in
file order, each against the database ml_security (created afresh with
ml_ext installed).  Prints "PASS <module>.<test>" or "FAIL <module>.<test>:
<why>" per test and a final "N passed, M failed"; exits 1 on any failure.

Run: /usr/bin/python3 test/security/run.py [name-filter]
"""

import glob
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import seclib  # noqa: E402


def main():
    flt = sys.argv[1] if len(sys.argv) > 1 else ""
    passed = failed = 0
    seclib.fresh_db(seclib.DB)
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        modname = os.path.splitext(os.path.basename(path))[0]
        try:
            mod = importlib.import_module(modname)
        except Exception:
            print("FAIL %s: import: %s" % (modname, traceback.format_exc().strip().splitlines()[-1]), flush=True)
            failed += 1
            continue
        names = [n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n))]
        names.sort(key=lambda n: getattr(mod, n).__code__.co_firstlineno)
        for n in names:
            full = "%s.%s" % (modname, n)
            if flt and flt not in full:
                continue
            t0 = time.time()
            try:
                getattr(mod, n)()
            except seclib.Failure as e:
                print("FAIL %s: %s" % (full, e), flush=True)
                failed += 1
                continue
            except Exception:
                print("FAIL %s: %s" % (full, traceback.format_exc().strip()), flush=True)
                failed += 1
                continue
            print("PASS %s  (%.1f s)" % (full, time.time() - t0), flush=True)
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
