#!/usr/bin/env bash
# Fuzzes one reader: ./run.sh TARGET SECONDS. Needs nightly and `cargo install cargo-fuzz`.
# Seeds come from seeds/TARGET (committed); the growing corpus lives in corpus/TARGET (ignored).
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=${2:-60}
mkdir -p "corpus/$target"
exec cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
