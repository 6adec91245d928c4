#!/usr/bin/env bash
# Instruction counts (valgrind's callgrind, repeatable whatever else the
# machine does) of strata at two commits, on the same machine and inputs:
# apply N migrations on tmpfs (a transaction each, and one for all), and the
# startup check on an up-to-date database (1,000 checks, apply subtracted).
#
#   benches/instructions_ab.sh OLD_COMMIT [NEW_COMMIT]   (default: the work tree)
#
# Each commit is built in release mode into a program of its own
# (benches/instructions/ab.rs), which reads a generated folder with
# Migrations::from_dir, so that it builds against any version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ]; then
    echo "usage: $0 OLD_COMMIT [NEW_COMMIT]   (in a full clone, which holds both)" >&2
    exit 2
fi
old="$1"
new="${2:-}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; git -C "$root" worktree remove --force "$work/new" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add -q --detach "$work/old" "$old"
if [ -n "$new" ]; then
    git -C "$root" worktree add -q --detach "$work/new" "$new"
    new_path="$work/new"
else
    new_path="$root"
fi
export CARGO_TARGET_DIR="$work/target"
for side in old new; do
    path="$work/old"
    [ "$side" = new ] && path="$new_path"
    mkdir -p "$work/ab_$side/src"
    cp "$root/benches/instructions/ab.rs" "$work/ab_$side/src/main.rs"
    cp "$root/Cargo.lock" "$work/ab_$side/Cargo.lock"
    cat > "$work/ab_$side/Cargo.toml" <<TOML
[package]
name = "ab_$side"
version = "0.0.0"
edition = "2024"
publish = false
[workspace]
[dependencies]
strata = { path = "$path" }
tempfile = "3"
TOML
    (cd "$work/ab_$side" && cargo build --quiet --release)
done
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$CARGO_TARGET_DIR/release/ab_$1" "$2" "$3" 2>&1 \
        | awk '/Collected/ {print $NF}'
}
printf '%-28s %15s %15s %8s\n' case old new ratio
for case in "apply 100" "apply 1000" "single 100"; do
    o=$(count old $case); n=$(count new $case)
    printf '%-28s %15s %15s %8s\n' "$case" "$o" "$n" "$(awk "BEGIN {printf \"%.4f\", $n / $o}")"
done
for side in old new; do
    a=$(count $side apply 10); s=$(count $side startup 10)
    eval "check_$side=$(( (s - a) / 1000 ))"
done
printf '%-28s %15s %15s %8s\n' "startup check (per check)" "$check_old" "$check_new" "$(awk "BEGIN {printf \"%.4f\", $check_new / $check_old}")"
