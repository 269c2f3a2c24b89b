#!/usr/bin/env python3
"""File-level import circles between the server's modules.

A path to an item in file F (`use crate::a::B`, `use super::b::C`, or an inline
`crate::a::f(..)` / `super::a::f(..)` / `self::a::f(..)`) makes F depend on the file that
*defines* the item: re-exports (`pub use`) are followed to their source, and a module's own
`pub use` lines are its facade, not a dependency of its code. Test-only files and `mod tests`
blocks count too. Prints each strongly connected component of two or more files, one per line.

Usage: python3 server/tools/import_circles.py [--strict] [-v] [server/src]
"""

import os
import re
import sys

STRICT = "--strict" in sys.argv
ARGS = [a for a in sys.argv[1:] if not a.startswith("-")]
ROOT = ARGS[0] if ARGS else os.path.join(os.path.dirname(__file__), "..", "src")
ROOT = os.path.normpath(ROOT)

# module path (tuple) -> file
files = {}
# file -> module path
module_of = {}


def add(path, module):
    files[module] = path
    module_of[path] = module


MOD_DECL = re.compile(r'^\s*(?:#\[path\s*=\s*"([^"]+)"\]\s*)?(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', re.M)


def walk(path, module):
    add(path, module)
    text = open(path, encoding="utf-8").read()
    # `#[path]` attributes may sit on the line above `mod`.
    joined = re.sub(r'(#\[path\s*=\s*"[^"]+"\])\s*\n(\s*#\[cfg\(test\)\]\s*\n)?', r"\1 ", text)
    joined = re.sub(r'#\[cfg\([^\]]*\)\]\s*\n', "", joined)
    here = os.path.dirname(path)
    is_mod = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
    for explicit, name in MOD_DECL.findall(joined):
        if explicit:
            child = os.path.normpath(os.path.join(here, explicit))
        else:
            base = here if is_mod else os.path.join(here, os.path.splitext(os.path.basename(path))[0])
            child = os.path.join(base, name + ".rs")
            if not os.path.exists(child):
                child = os.path.join(base, name, "mod.rs")
        if os.path.exists(child):
            walk(child, module + (name,))


walk(os.path.join(ROOT, "lib.rs"), ())


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"] (aliases dropped)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def rec(prefix, t):
        if "{" not in t:
            for part in split_top(t):
                part = part.split("as")[0] if re.search(r"\bas\b", part) else part
                part = re.sub(r"as\w+$", "", part) if False else part
                out.append(prefix + part)
            return
        i = t.index("{")
        head = t[:i]
        inner = t[i + 1 : t.rindex("}")]
        for part in split_top(inner):
            if "{" in part:
                rec(prefix + head, part)
            else:
                out.append(prefix + head + part)

    rec("", tree)
    return [re.sub(r"(\w)as\w+$", r"\1", o) for o in out]


def split_top(t):
    parts, depth, cur = [], 0, ""
    for ch in t:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return [p for p in parts if p]


USE = re.compile(r"^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
INLINE = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)")
RELATIVE = re.compile(r"(?<![\w:])([a-z_]\w*)((?:::\w+)+)")

# file -> {name: absolute path (tuple)} of `pub use` re-exports
reexports = {}
# file -> [(module the path is written in, path)]
uses = {}
INLINE_MOD = re.compile(r"\bmod\s+(\w+)\s*\{")


def blocks(text, module):
    """(module, text) for the file's own level and each inline `mod x { .. }` in it."""
    out, rest, pos = [], [], 0
    for m in INLINE_MOD.finditer(text):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        rest.append(text[pos : m.start()])
        out += blocks(text[m.end() : i - 1], module + (m.group(1),))
        pos = i
    rest.append(text[pos:])
    return [(module, "".join(rest))] + out


for path, module in module_of.items():
    text = strip_comments(open(path, encoding="utf-8").read())
    re_map = {}
    paths = []
    for where, part in blocks(text, module):
        for vis, tree in USE.findall(part):
            for item in expand_use(tree):
                if vis and where == module:
                    re_map[item.split("::")[-1]] = item
                else:
                    paths.append((where, item))
        without_use = USE.sub("", part)
        paths += [(where, p) for p in INLINE.findall(without_use)]
        # --strict: `child::item` inline too, for a child module of this file's module (a
        # parent that wires its children and also defines what they use is then a circle).
        if STRICT:
            for first, rest in RELATIVE.findall(without_use):
                if where + (first,) in files:
                    paths.append((where, first + rest))
    reexports[path] = re_map
    uses[path] = paths


def absolute(module, item, path):
    """A `use` path as an absolute tuple, from the module of `path`."""
    segs = item.split("::")
    is_mod_file = os.path.basename(path) in ("mod.rs", "lib.rs")
    cur = list(module)
    if segs[0] == "crate":
        cur, segs = [], segs[1:]
    elif segs[0] in ("super", "self"):
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                cur = cur[:-1]
            segs = segs[1:]
    else:
        # a path relative to the current module (child modules) or an extern crate.
        first = segs[0]
        if tuple(cur + [first]) not in files:
            return None
    return tuple(cur + segs)


def define_file(abs_path, depth=0):
    """The file defining the item at `abs_path` (following re-exports)."""
    if abs_path is None or depth > 10:
        return None
    # The longest prefix that is a module file.
    for n in range(len(abs_path), -1, -1):
        prefix = abs_path[:n]
        if prefix in files:
            f = files[prefix]
            rest = abs_path[n:]
            if not rest:
                return f
            name = rest[0]
            target = reexports.get(f, {}).get(name)
            if target:
                t = absolute(prefix, target, f)
                if t is not None:
                    return define_file(t + rest[1:], depth + 1)
            return f
    return None


edges = {p: set() for p in module_of}
for path, items in uses.items():
    for where, item in items:
        target = define_file(absolute(where, item, path))
        if target and target != path:
            edges[path].add(target)


def sccs(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


found = [sorted(os.path.relpath(f, ROOT) for f in c) for c in sccs(edges) if len(c) > 1]
for comp in sorted(found):
    print(" <-> ".join(comp))
print(f"{len(found)} circle(s) over {len(module_of)} files", file=sys.stderr)

if "-v" in sys.argv or os.environ.get("VERBOSE"):
    for comp in sccs(edges):
        if len(comp) < 2:
            continue
        members = set(comp)
        for f in sorted(comp):
            inside = sorted(os.path.relpath(t, ROOT) for t in edges[f] if t in members)
            print(f"  {os.path.relpath(f, ROOT)} -> {', '.join(inside)}")
