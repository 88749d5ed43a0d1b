#!/usr/bin/env bash
# The GPU check of issue 13 in one command (about 7 minutes on a GPU machine): installs translit
# when it is not importable, then prints benchmarks/gpu_check.py's JSON on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python -c "import translit" 2>/dev/null; then
  python -m pip install -q -e .
fi
exec python benchmarks/gpu_check.py "$@"
