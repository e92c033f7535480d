# Sourced by scripts/pgo-build.sh and .ci/run: the llvm-profdata that reads the profiles of
# this rustc's LLVM.
#
#   llvm_major       the major version of rustc's LLVM (`rustc -vV`, "LLVM version")
#   llvm_profdata    the path or name of a matching llvm-profdata (rustup's llvm-tools
#                    component, else llvm-profdata-N, else llvm-profdata), or nothing

llvm_major() {
    rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p'
}

llvm_profdata() {
    local major host cand
    major=$(llvm_major)
    host=$(rustc -vV | sed -n 's/^host: //p')
    for cand in "$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata" \
        "llvm-profdata-$major" llvm-profdata; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" --version 2>/dev/null | grep -q "LLVM version $major\."; then
            echo "$cand"
            return
        fi
    done
}
