#!/usr/bin/env bash
# The GPU check of issue 13 in one command (about 7 minutes on a GPU machine): installs translit
# when it is not importable, then prints benchmarks/gpu_check.py's JSON on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python || command -v python3)}
if ! "$PYTHON" -c "import translit" 2>/dev/null; then
  if ! "$PYTHON" -m pip install -q -e .; then
    echo '{"error": "translit and TensorFlow 2.21 could not be installed (they come from a package registry): install them, then run this script again"}'
    exit 1
  fi
fi
exec "$PYTHON" benchmarks/gpu_check.py "$@"
