#!/usr/bin/env bash
# The main job: builds libcwm and runs `cwm trace` with the shipped tiny model
# (models/cwm-tiny-q8_0.gguf, docs/tiny-model.md) on an example program: the model's predicted
# execution trace beside the actual one from the sandboxed tracer, with their agreement.
# Other programs: scripts/demo.sh examples/programs/gcd.py (or any file with a function marked
# "# << START_OF_TRACE").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
program=${1:-$root/examples/programs/spec_example.py}
bash "$root/scripts/build.sh" "$root/build"

model="$root/models/cwm-tiny-q8_0.gguf"
"$root/build/cwm" info "$model" | head -n 6
echo
echo "== $program"
cat "$program"
echo
"$root/build/cwm" trace "$program" -m "$model"
