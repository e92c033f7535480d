#!/usr/bin/env python3
"""Module import graph of the workspace's crates: import circles and the largest files.

For every crate (engine, shards, io, bench, and any other directory with a Cargo.toml and a
src/), each `.rs` file is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`). An edge A -> B is a
path `crate::b::...` or `super::...` in A's non-test code (comments, doc links, `$crate` in
macros and `#[cfg(test)]` modules are left out) that names an item of module B; a name
re-exported by the crate root (`crate::Name`) resolves to the module it is re-exported from.
An edge between modules of different branches counts between the two siblings below their
common parent (`engine::flow::tcp -> engine::event` is `flow -> event`); a module using its
own parent or child is not an edge. A circle is a strongly connected set of two or more
siblings.

    scripts/import-graph.py [--top N] [--edges] [CRATE_DIR...]

Exit status 1 when there is a circle, so a check can run it.
"""
import argparse
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PATH_RE = re.compile(r"(?<![\w$])(crate|super)((?:::(?:\w+|\{[^}]*\}))+)")
USE_BLOCK_RE = re.compile(r"\buse\s+(crate|super)((?:::\w+)*)::\{", re.S)


def module_files(src):
    """Maps module path tuples to files under src (lib.rs or main.rs is the root ())."""
    mods = {}
    for dirpath, _dirs, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel[0] == "bin":
                continue
            if rel in (["lib"], ["main"]):
                if () in mods and rel == ["main"]:
                    continue
                mods[()] = full
                continue
            if rel[-1] == "mod":
                rel = rel[:-1]
            mods[tuple(rel)] = full
    return mods


def strip_code(text):
    """Source without comments, string literals and #[cfg(test)] items."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    out, depth_skip, i = [], None, 0
    lines = text.split("\n")
    while i < len(lines):
        line = lines[i]
        if re.match(r"\s*#\[cfg\(test\)\]", line):
            # Skip the next item: up to its matching closing brace or a `;`.
            j, depth, started = i + 1, 0, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                if (started and depth <= 0) or (not started and lines[j].rstrip().endswith(";")):
                    break
                j += 1
            i = j + 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def expand_paths(code):
    """Every `crate::a::b` / `super::a` path in code, use-groups expanded one level."""
    paths = []
    for m in PATH_RE.finditer(code):
        head, rest = m.group(1), m.group(2)
        segs = []
        for part in rest.split("::")[1:]:
            if part.startswith("{"):
                for inner in part[1:-1].split(","):
                    inner = inner.strip().split(" as ")[0].strip()
                    if inner and inner != "self":
                        paths.append((head, segs + inner.split("::")))
                segs = None
                break
            segs.append(part)
        if segs is not None:
            paths.append((head, segs))
    # Multi-line use groups: `use crate::a::{b, c::d, ...};`
    for m in USE_BLOCK_RE.finditer(code):
        head, prefix = m.group(1), [s for s in m.group(2).split("::") if s]
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        body = code[m.end(): j - 1]
        for inner in re.split(r",(?![^{]*\})", body):
            inner = re.sub(r"\s+", "", inner).split("as")[0] if " as " not in inner else inner.split(" as ")[0].strip()
            inner = re.sub(r"\s+", "", inner)
            if not inner or inner == "self":
                continue
            if "{" in inner:
                base, group = inner.split("{", 1)
                for g in group.rstrip("}").split(","):
                    if g and g != "self":
                        paths.append((head, prefix + [s for s in base.split("::") if s] + g.split("::")))
            else:
                paths.append((head, prefix + inner.split("::")))
    return paths


def root_reexports(root_file, mods):
    """Names the crate root re-exports with `pub use`, mapped to their module."""
    names = {}
    code = strip_code(open(root_file, encoding="utf-8").read())
    for m in re.finditer(r"pub\s+use\s+([\w:]+?)(?:::\{([^}]*)\}|::(\w+))\s*;", code, re.S):
        base = [s for s in m.group(1).split("::") if s and s != "crate"]
        items = m.group(2).split(",") if m.group(2) else [m.group(3)]
        for it in items:
            it = it.strip()
            if not it:
                continue
            name = it.split(" as ")[-1].strip()
            full = base + it.split(" as ")[0].strip().split("::")
            names[name] = resolve(tuple(full), mods)
    return names


def resolve(path, mods):
    """The deepest module that is a prefix of path."""
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return ()


def crate_edges(crate_dir):
    src = os.path.join(crate_dir, "src")
    mods = module_files(src)
    if () not in mods:
        return mods, set()
    reexp = root_reexports(mods[()], mods)
    edges = set()
    for mod, f in mods.items():
        if mod == () or os.path.basename(f) in ("tests.rs", "testutil.rs"):
            continue
        if "tests" in mod:
            continue
        code = strip_code(open(f, encoding="utf-8").read())
        code = code.replace("$crate", "$ CRATE")
        for head, segs in expand_paths(code):
            if head == "crate":
                if len(segs) == 1 or tuple(segs[:1]) not in mods:
                    target = reexp.get(segs[0]) if segs else None
                    if target is None:
                        target = resolve(tuple(segs), mods)
                else:
                    target = resolve(tuple(segs), mods)
            else:
                base = list(mod)
                # `super` inside a file module a/b.rs (not mod.rs) is a's parent... no:
                # in `a/b.rs` (module a::b), super is a.
                s = list(segs)
                base = base[:-1]
                while s and s[0] == "super":
                    base, s = base[:-1], s[1:]
                target = resolve(tuple(base + s), mods)
            if not target or target == mod:
                continue
            # Lift to siblings under the common parent.
            n = 0
            while n < min(len(mod), len(target)) and mod[n] == target[n]:
                n += 1
            if n == len(mod) or n == len(target):
                continue  # parent <-> child
            edges.add((mod[: n + 1], target[: n + 1]))
    return mods, edges


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    adj = {n: [] for n in nodes}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, [])

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(adj):
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("crates", nargs="*")
    ap.add_argument("--top", type=int, default=10, help="largest files to list")
    ap.add_argument("--edges", action="store_true", help="print every edge")
    args = ap.parse_args()
    crates = args.crates or sorted(
        os.path.dirname(os.path.relpath(p, ROOT))
        for p in (os.path.join(d, "Cargo.toml") for d, _, fs in os.walk(ROOT) if "Cargo.toml" in fs)
        if os.path.isdir(os.path.join(os.path.dirname(p), "src"))
        and "/target" not in p and "/fuzz" not in p and os.path.dirname(p) != ROOT
    )
    circles = 0
    sizes = []
    for c in crates:
        d = os.path.join(ROOT, c)
        mods, edges = crate_edges(d)
        for f in mods.values():
            sizes.append((sum(1 for _ in open(f, encoding="utf-8")), os.path.relpath(f, ROOT)))
        name = os.path.basename(d.rstrip("/"))
        if args.edges:
            for a, b in sorted(edges):
                print(f"{name}: {'::'.join(a)} -> {'::'.join(b)}")
        comps = sccs(sorted(set(a for a, _ in edges) | set(b for _, b in edges)), edges)
        for comp in comps:
            circles += 1
            print(f"{c}: circle of {len(comp)}: " + ", ".join("::".join(m) for m in comp))
    print(f"import circles: {circles}")
    if args.top > 0:
        print("largest files (lines), test files included:")
        for n, f in sorted(sizes, reverse=True)[: args.top]:
            print(f"  {n:6d} {f}")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())
