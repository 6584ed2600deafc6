#!/usr/bin/env bash
# Runs every bare-metal guest program on QEMU (the "third opinion") and reports
# pass/fail. Programs named avm_specific* check spec choices where QEMU 7.2 differs;
# they are skipped unless --all is given (then they are expected to fail on QEMU).
#
#   guest/run-qemu.sh [--all] [program...]
#
# Needs qemu-system-riscv32 (Debian: qemu-system-misc). Exit status 0 when every
# program that ran passed.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
target_dir="${CARGO_TARGET_DIR:-$here/../target/guest}"
all=0
progs=()
for arg in "$@"; do
    case "$arg" in
        --all) all=1 ;;
        *) progs+=("$arg") ;;
    esac
done

command -v qemu-system-riscv32 >/dev/null || { echo "qemu-system-riscv32 not found (apt-get install qemu-system-misc)"; exit 2; }
(cd "$here" && CARGO_TARGET_DIR="$target_dir" cargo build --release --target riscv32imac-unknown-none-elf --quiet) || exit 2
bindir="$target_dir/riscv32imac-unknown-none-elf/release"

if [ ${#progs[@]} -eq 0 ]; then
    for f in "$here"/bare/src/bin/*.rs; do
        name="$(basename "$f" .rs)"
        case "$name" in
            avm_specific*|counters) [ $all -eq 1 ] || { echo "skip  $name (aVM-specific)"; continue; } ;;
        esac
        progs+=("$name")
    done
fi

failed=0
for name in "${progs[@]}"; do
    out="$(timeout 60 qemu-system-riscv32 -machine spike -bios none -nographic -m 128M \
        -kernel "$bindir/$name" </dev/null 2>&1)"
    rc=$?
    why=""
    if [ $rc -eq 124 ]; then
        why="timeout"
    elif [ $rc -ne 0 ]; then
        why="test $rc failed"
    fi
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        printf 'FAIL  %s (%s)\n' "$name" "$why"
    else
        printf 'pass  %s\n' "$name"
    fi
    [ -n "$out" ] && sed 's/^/      | /' <<<"$out"
done
echo "$failed failed"
[ $failed -eq 0 ]
