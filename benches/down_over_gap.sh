#!/usr/bin/env bash
# `strata down --all` over N migrations on SQLite, with and without a gap
# in the history (`down --only 2` first), N = 1000, 2000, 4000 (or NS):
# each step of a down checks the history under the lock with one read of
# the newest row, so both grow linearly. Down files are `SELECT 1`; one
# fsync per migration dominates. Release build.
#
#   benches/down_over_gap.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --quiet --release -p strata-cli --manifest-path "$here/Cargo.toml"
strata="$here/target/release/strata"
for n in ${NS:-1000 2000 4000}; do
  for gap in no yes; do
    dir=$(mktemp -d)
    mkdir "$dir/migrations"
    for i in $(seq 1 "$n"); do
      printf 'CREATE TABLE t%d (id INTEGER);\n' "$i" > "$dir/migrations/${i}_t$i.up.sql"
      printf 'SELECT 1;\n' > "$dir/migrations/${i}_t$i.down.sql"
    done
    db="sqlite:$dir/app.db"
    "$strata" --dir "$dir/migrations" --database "$db" --quiet up
    if [ "$gap" = yes ]; then
      "$strata" --dir "$dir/migrations" --database "$db" --quiet down --only 2
    fi
    start=$(date +%s.%N)
    "$strata" --dir "$dir/migrations" --database "$db" --quiet down --all
    end=$(date +%s.%N)
    printf 'N=%d gap=%s down --all: %.2f s\n' "$n" "$gap" "$(echo "$end - $start" | bc)"
    rm -rf "$dir"
  done
done
