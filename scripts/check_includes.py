#!/usr/bin/env python3
"""Fails when an #include crosses a module boundary that the build does not declare.

Usage: check_includes.py SOURCE_DIR MODULE_GRAPH

MODULE_GRAPH is written by CMake (build/module_graph.txt), one line per module library:
"name: dep1;dep2". A file in module M may include headers of M and of every module M
depends on, directly or through its dependencies. cli/ (the executable) may include any
module; tests/, bench/ and fuzz/ are not modules. The dependency table in
docs/ARCHITECTURE.md must say the same as the build.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/[^"]+"', re.MULTILINE)
NOT_MODULES = {"cli", "tests", "bench", "fuzz", "build"}


def read_graph(path):
    graph = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip():
            continue
        name, _, deps = line.partition(":")
        graph[name.strip()] = [d for d in re.split(r"[;\s]+", deps.strip()) if d]
    return graph


def closure(graph, name):
    seen, todo = set(), [name]
    while todo:
        for dep in graph[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def documented_graph(source):
    """The table between the markers in docs/ARCHITECTURE.md: 'module -> a, b'."""
    text = (source / "docs" / "ARCHITECTURE.md").read_text()
    match = re.search(r"<!-- module-graph -->\n```\n(.*?)```", text, re.DOTALL)
    if not match:
        return None
    graph = {}
    for line in match.group(1).splitlines():
        name, _, deps = line.partition("->")
        graph[name.strip()] = sorted(d.strip() for d in deps.split(",") if d.strip())
    return graph


def main():
    source, graph_file = pathlib.Path(sys.argv[1]), sys.argv[2]
    graph = read_graph(graph_file)
    problems = []
    for module in graph:
        for dep in graph[module]:
            if dep not in graph:
                problems.append(f"{graph_file}: {module} depends on unknown module {dep}")
    allowed = {m: closure(graph, m) | {m} for m in graph}
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        has_code = any(folder.rglob("*.cc"))
        if has_code and folder.name not in graph and folder.name not in NOT_MODULES \
                and not folder.name.startswith("build"):
            problems.append(f"{folder.name}/: C++ sources in a folder that is not a module in CMakeLists.txt")
    for module in graph:
        for path in sorted((source / module).rglob("*")):
            if path.suffix not in (".cc", ".h"):
                continue
            text = path.read_text(errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = match.group(1)
                if target in graph and target not in allowed[module]:
                    rel = path.relative_to(source)
                    problems.append(f"{rel}:{number}: includes {target}/, but module {module} depends only on "
                                    f"{', '.join(sorted(allowed[module] - {module})) or 'nothing'}")
    documented = documented_graph(source)
    built = {m: sorted(d) for m, d in graph.items()}
    if documented is None:
        problems.append("docs/ARCHITECTURE.md: no <!-- module-graph --> table")
    elif documented != built:
        problems.append("docs/ARCHITECTURE.md: the module table differs from CMakeLists.txt; it should read:\n"
                        + "\n".join(f"{m} -> {', '.join(d)}" if d else m for m, d in built.items()))
    for problem in problems:
        print(problem)
    if problems:
        print(f"include check: {len(problems)} problem(s)")
        return 1
    print(f"include check: {len(graph)} modules, every #include within the declared dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
