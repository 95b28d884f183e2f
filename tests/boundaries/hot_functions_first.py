#!/usr/bin/env python3
"""Checks that the code generator plugin was linked with its section order
(compiler/driver/CMakeLists.txt): the functions the order lists sit in the
plugin in that order, packed together, between the two markers whose
addresses tell warm_code_generator() what to read.

    hot_functions_first.py PLUGIN ORDER_FILE
"""
import subprocess
import sys


def main(plugin, order_file):
    syms = {}
    out = subprocess.run(["nm", "-S", "--defined-only", plugin], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            syms[p[3]] = (int(p[0], 16), int(p[1], 16))
    markers = ("hvt_hot_code_begin", "hvt_hot_code_end")
    listed = [line.strip()[len(".text."):] for line in open(order_file)
              if line.startswith(".text.") and not line.startswith(".text.startup")]
    listed = [name for name in listed if name not in markers]
    first = listed[:2000]
    present = [n for n in first if n in syms]
    if len(present) < 0.9 * len(first):
        print(f"only {len(present)} of the first {len(first)} listed functions "
              "are in the plugin: regenerate the order (bench/order_codegen.py)")
        return 1
    # A few names are aliases of another function's code (C1/C2
    # constructors), placed with that function's section: out of order.
    # Without the order, about half of the pairs would be.
    out_of_order = [(a, b) for a, b in zip(present, present[1:])
                    if syms[a][0] >= syms[b][0]]
    if len(out_of_order) > 0.1 * len(present):
        print(f"{len(out_of_order)} of {len(present)} listed functions are not "
              f"in the listed order, e.g. {out_of_order[0][1]} before "
              f"{out_of_order[0][0]}: was the plugin linked with gold and the "
              "order file?")
        return 1
    span = syms[present[-1]][0] + syms[present[-1]][1] - syms[present[0]][0]
    size = sum(syms[n][1] for n in present)
    if span > 1.5 * size:
        print(f"the listed functions span {span} bytes for {size} bytes of code")
        return 1
    if any(m not in syms for m in markers):
        print(f"the plugin lacks {' or '.join(markers)}")
        return 1
    begin, end = syms[markers[0]][0], syms[markers[1]][0]
    every = [n for n in listed if n in syms]
    # The code generator's own functions are not in sections of their own:
    # not ordered, as the aliases above.
    outside = [n for n in every if not begin <= syms[n][0] < end]
    if len(outside) > 0.05 * len(every):
        print(f"{len(outside)} of {len(every)} listed functions are outside "
              f"the markers (0x{begin:x}-0x{end:x}), e.g. {outside[0]}")
        return 1
    inside = sum(syms[n][1] for n in every if begin <= syms[n][0] < end)
    if end - begin > 1.5 * inside:
        print(f"the markers span {end - begin} bytes for {inside} bytes of "
              "listed code")
        return 1
    print(f"{len(present)} hot functions in order, {size} bytes in a span of "
          f"{span}; the markers bound {len(every) - len(outside)} listed "
          f"functions in {end - begin} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
