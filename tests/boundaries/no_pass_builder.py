#!/usr/bin/env python3
"""Checks that the code generator plugin does not link LLVM's PassBuilder
(compiler/driver/codegen_plugin_pass_builder.cpp): with it, the plugin
links every LLVM pass and their static initializers, which every compiling
start pays for when it loads the plugin. Linked, it brings these symbols
along.

    no_pass_builder.py PLUGIN
"""
import subprocess
import sys

PASS_BUILDER_SYMBOLS = (
    "llvm::PassBuilder::PassBuilder(",
    "llvm::PassBuilder::buildPerModuleDefaultPipeline(",
    "llvm::PassBuilder::parsePassPipeline(",
)


def main(plugin):
    symbols = subprocess.run(["nm", "-C", plugin], check=True,
                             capture_output=True, text=True).stdout
    if "hvt::optimize_for_bpf(" not in symbols:
        print(f"{plugin}: no symbol table with hvt's optimizer in it")
        return 1
    found = [name for name in PASS_BUILDER_SYMBOLS if name in symbols]
    if found:
        print(f"{plugin} links LLVM's PassBuilder: {', '.join(found)}")
        return 1
    print(f"{plugin}: no PassBuilder")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
