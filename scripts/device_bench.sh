#!/usr/bin/env bash
# The benchmark suite beside PyTorch on the GPU machine, in one device call.
#
#   scripts/device_bench.sh prep        # here: build xtask in release, fill .device/
#   then the device tool's run, with carry [".device"] and the command
#   scripts/device_bench.sh run         # there: bench, PyTorch at the same shapes, compare
#
# The GPU machine has PyTorch but no Rust toolchain, so `prep` builds here and
# ../shared/tools/device-prep.sh copies the binary and the Vulkan loader into .device/.
# `run` writes into $OUT (what the device tool brings back): bench.json, bench.txt (its
# end: the per-kernel profile of one DCGAN step), roofline.png, trace.json (that step's
# timeline, for Perfetto), torch.json, torch.txt, BENCHMARKS.md and validate.txt (the
# convolutions and the loss validated with trusted shader modules, ATELIER_SHADER_CHECKS=off,
# before anyone makes them the default; at most a minute). The bench times every
# convolution variant and the DCGAN step with and without wgpu's runtime checks (variants
# ending in +trusted). Extra arguments go to `xtask bench` (for example --filter
# conv2d.forward or --batch 128).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
prep)
    cargo build --release -p xtask
    # device-prep.sh lists .device/ in .git/info/exclude, which a fresh clone may lack
    mkdir -p "$(git rev-parse --git-dir)/info"
    ../shared/tools/device-prep.sh target/release/xtask
    ;;
run)
    shift
    : "${OUT:?run this on the GPU machine, where the device tool sets OUT}"
    # shellcheck disable=SC1091
    source .device/env.sh
    ATELIER_SHADER_CHECKS=off timeout 60 .device/bin/xtask validate --filter conv2d \
        > "$OUT/validate.txt" 2>&1 || echo "validate: exit $? (124: cut at 60 s)" >> "$OUT/validate.txt"
    ATELIER_SHADER_CHECKS=off timeout 15 .device/bin/xtask validate --filter loss \
        >> "$OUT/validate.txt" 2>&1 || echo "validate: exit $?" >> "$OUT/validate.txt"
    tail -1 "$OUT/validate.txt"
    .device/bin/xtask bench --json "$OUT/bench.json" --roofline "$OUT/roofline.png" \
        --trace "$OUT/trace.json" "$@" > "$OUT/bench.txt" 2>&1
    tail -3 "$OUT/bench.txt"
    python3 scripts/torch_bench.py --atelier "$OUT/bench.json" --out "$OUT/torch.json" \
        > "$OUT/torch.txt" 2>&1
    tail -1 "$OUT/torch.txt"
    .device/bin/xtask compare --atelier "$OUT/bench.json" --torch "$OUT/torch.json" \
        --out "$OUT/BENCHMARKS.md"
    ;;
*)
    echo "usage: scripts/device_bench.sh prep | run [xtask bench arguments]" >&2
    exit 2
    ;;
esac
