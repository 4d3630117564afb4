#!/usr/bin/env python3
"""Checks that every target's declared dependencies equal what its sources import.

For each target of Package.swift (read with `swift package dump-package`), the modules its Swift
files import are compared with the modules its dependencies provide:
- an imported module of this package or of a dependency product that is not declared is an error
  (it builds only by accident, through another target's dependency);
- a declared dependency that no file of the target imports is an error (an unused edge that
  blurs the layering), except an executable a test target runs as a child process.
System modules (Foundation, Testing, Glibc, Synchronization, Dispatch, …) are not checked.
Exit status 1 lists every mismatch as `target: …`.

Usage: python3 Scripts/check_dependencies.py   (from the repository root; `make test` runs it)
"""
import json
import os
import re
import subprocess
import sys

# The modules each external product provides.
PRODUCT_MODULES = {
    "RealModule": {"RealModule"},
    "Numerics": {"Numerics", "RealModule", "ComplexModule"},
    "ArgumentParser": {"ArgumentParser"},
    "Collections": {"Collections", "DequeModule", "OrderedCollections", "HeapModule"},
    "Benchmark": {"Benchmark"},
}
IMPORT = re.compile(r"^\s*(?:@_exported\s+|@testable\s+|@_implementationOnly\s+|(?:public|package|internal)\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def main():
    package = json.loads(subprocess.run([os.environ.get("SWIFT", "swift"), "package", "dump-package"], check=True, capture_output=True,
                                         text=True).stdout)
    targets = {t["name"]: t for t in package["targets"]}
    known = set(targets) | set().union(*PRODUCT_MODULES.values())
    errors = []
    for name, target in targets.items():
        if target["type"] == "system":
            continue
        default = {"test": "Tests", "executable": "Sources"}.get(target["type"], "Sources")
        path = target.get("path") or os.path.join(default, name)
        imported = set()
        for root, _, files in os.walk(path):
            for file in files:
                if file.endswith(".swift"):
                    with open(os.path.join(root, file), encoding="utf-8") as handle:
                        imported |= {m for m in IMPORT.findall(handle.read()) if m in known}
        declared, products = set(), []
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            if kind == "product":
                modules = PRODUCT_MODULES.get(value[0], {value[0]})
                declared |= modules
                products.append((value[0], modules))
            else:
                declared.add(value[0])
        imported.discard(name)
        for module in sorted(imported - declared):
            errors.append(f"{name}: imports {module} without declaring it")
        product_modules = set().union(*(modules for _, modules in products)) if products else set()
        for module in sorted(declared - imported - product_modules):
            # A test target may depend on an executable it runs as a child process.
            if target["type"] == "test" and targets.get(module, {}).get("type") == "executable":
                continue
            errors.append(f"{name}: declares {module} but no file imports it")
        for product, modules in products:
            if not modules & imported:
                errors.append(f"{name}: declares product {product} but no file imports its modules")
    for line in errors:
        print(line)
    if errors:
        print(f"{len(errors)} dependency mismatch(es); declared dependencies must equal the imports")
        return 1
    print(f"dependencies of {len(targets)} targets equal their imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
