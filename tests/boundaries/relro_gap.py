#!/usr/bin/env python3
"""Checks that the code generator plugin keeps its relocated data apart from
its .dynamic section (the gap codegen_plugin_entry.cpp adds, placed by the
section order): ld.so reads .dynamic before it relocates, the kernel maps
the file pages around that read, and a relocation written to one of them
costs a TLB flush on the other CPU. The kernel's reach around a read was
seen up to ~70 pages (280 KiB) here.

    relro_gap.py PLUGIN
"""
import subprocess
import sys

MIN_GAP = 384 * 1024


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True,
                          capture_output=True, text=True).stdout


def main(plugin):
    dynamic = None
    for line in readelf("-S", plugin).splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 3 and fields[1] == ".dynamic":
            dynamic = int(fields[3], 16)
    if dynamic is None:
        print(f"{plugin} has no .dynamic section")
        return 1
    below = []
    for line in readelf("-r", plugin).splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2].startswith("R_X86_64_"):
            offset = int(fields[0], 16)
            if offset < dynamic:
                below.append(offset)
    if len(below) < 10000:
        print(f"only {len(below)} relocations before .dynamic: is this the "
              "code generator plugin, with LLVM linked in?")
        return 1
    last = max(below)
    gap = dynamic - last
    if gap < MIN_GAP:
        print(f"the last relocation before .dynamic (0x{dynamic:x}) is at "
              f"0x{last:x}, {gap} bytes away; expected at least {MIN_GAP}: "
              "was the plugin linked with its section order, which puts "
              ".data.rel.ro.hvt_relro_gap last?")
        return 1
    print(f"{len(below)} relocations end {gap} bytes before .dynamic")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
