#!/usr/bin/env bash
# The main job: builds libcwm, writes a small random-weight model of the CWM architecture
# (local and global layers, GQA 6:1, Llama-3 RoPE scaling), shows what `cwm info` reports
# about it and streams a generation with `cwm run`. The weights are random, so the text is
# noise: this demonstrates the engine end to end, not a trained model.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/build.sh" "$root/build"

model="$root/build/demo-cwm.gguf"
if [ ! -f "$model" ]; then
    /usr/bin/python3 "$root/scripts/make_random_model.py" --out "$model" --arch cwm --layers 8 --embd 384 \
        --ff 1024 --heads 12 --kv-heads 2 --vocab 4096 --ctx 16384 --window 256 --rope-theta 1000000 \
        --rope-scaling llama3 --rope-factor 16 --rope-orig-ctx 2048 --dtype bf16 --scale 4 --seed 1
fi
"$root/build/cwm" info "$model" | head -n 20
echo
"$root/build/cwm" run -m "$model" -p "def fibonacci(n):" -n 48 --temp 0.8 --top-p 0.95 --seed 7
