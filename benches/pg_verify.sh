#!/usr/bin/env bash
# `strata verify` beside `strata up` on PostgreSQL, for BENCHMARKS.md
# ("verify beside up"): the generated folders of the comparison benchmarks
# in PostgreSQL's form (SERIAL keys), N = 50, 200 and 1000, each command
# run RUNS times (default 5) in turn with the other, release build. Prints
# the times and, per N, the medians and their ratio.
#
#   STRATA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test benches/pg_verify.sh
#
# verify runs in a scratch database (the role needs CREATEDB); `up` runs
# on a new empty database made before it is timed. With a role without
# CREATEDB that owns DATABASE, `STRATA_VERIFY_URL=postgres://role@host/DATABASE`
# times verify in one transaction instead.
set -euo pipefail

url=${STRATA_TEST_POSTGRES_URL:?set STRATA_TEST_POSTGRES_URL to a server where the role may create databases}
verify_url=${STRATA_VERIFY_URL:-$url}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --quiet --release -p strata-cli --manifest-path "$here/Cargo.toml"
strata=$here/target/release/strata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for n in 50 200 1000; do
    dir=$work/m$n
    mkdir -p "$dir"
    for ((v = 1; v <= n; v++)); do
        name=$(printf '%06d_m%d' "$v" "$v")
        if ((v % 10 == 0)); then
            echo "ALTER TABLE t$((v - 5)) ADD COLUMN c$v INTEGER NOT NULL DEFAULT 0;" >"$dir/$name.up.sql"
            echo "ALTER TABLE t$((v - 5)) DROP COLUMN c$v;" >"$dir/$name.down.sql"
        else
            printf '%s\n' \
                "CREATE TABLE t$v (id SERIAL PRIMARY KEY, name TEXT NOT NULL, at TEXT);" \
                "CREATE INDEX t${v}_name ON t$v (name);" \
                "INSERT INTO t$v (name, at) VALUES ('a', '2026-01-01'), ('b', '2026-01-02'), ('c', '2026-01-03');" \
                >"$dir/$name.up.sql"
            echo "DROP TABLE t$v;" >"$dir/$name.down.sql"
        fi
    done
done

# The URL of database $1 on the server of $url.
database() {
    local base=${url%%\?*} query=
    [[ $url == *\?* ]] && query="?${url#*\?}"
    echo "${base%/*}/$1$query"
}

timed() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

for n in 50 200 1000; do
    verify=() up=()
    for ((r = 1; r <= runs; r++)); do
        verify+=("$(timed "$strata" --dir "$work/m$n" --database "$verify_url" verify)")
        PGOPTIONS='-c client_min_messages=warning' psql -q "$url" \
            -c "DROP DATABASE IF EXISTS strata_bench_up" -c "CREATE DATABASE strata_bench_up"
        up+=("$(timed "$strata" --dir "$work/m$n" --database "$(database strata_bench_up)" up)")
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
    mv=$(median "${verify[@]}") mu=$(median "${up[@]}")
    echo "N = $n: verify ${verify[*]} | up ${up[*]}"
    printf 'N = %s: verify %.2f s, up %.2f s, ratio %.2fx\n' "$n" "$mv" "$mu" "$(echo "$mv / $mu" | bc -l)"
done
PGOPTIONS='-c client_min_messages=warning' psql -q "$url" -c "DROP DATABASE IF EXISTS strata_bench_up"
