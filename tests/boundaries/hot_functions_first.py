#!/usr/bin/env python3
"""Checks the code generator plugin's layout (compiler/driver/CMakeLists.txt,
docs/performance.md) and the hot code range layout_codegen.py wrote into it
for warm_code_generator():

- laid out by llvm-bolt (--bolt): the range is llvm-bolt's hot text, the
  functions the section order lists (what compiles run) are in it, and
  their cold blocks were moved out;
- laid out by gold's section order alone: the listed functions sit in that
  order, packed together, between the two markers, which are the range.

    hot_functions_first.py PLUGIN ORDER_FILE [--bolt]
"""
import os
import subprocess
import sys

# The record's reader, beside its writer.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "compiler", "driver"))
import layout_codegen  # noqa: E402

MARKERS = ("hvt_hot_code_begin", "hvt_hot_code_end")


def tool(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True,
                          text=True).stdout


def symbols(plugin):
    """{name: (address, size)} of the plugin's defined symbols."""
    syms = {}
    for line in tool("nm", "-S", "--defined-only", plugin).splitlines():
        p = line.split()
        if len(p) == 4:
            syms[p[3]] = (int(p[0], 16), int(p[1], 16))
        elif len(p) == 3:  # no size: llvm-bolt's __hot_start, __hot_end
            syms[p[2]] = (int(p[0], 16), 0)
    return syms


def sections(plugin):
    """{name: (address, size)}"""
    found = {}
    for line in tool("readelf", "-SW", plugin).splitlines():
        p = line.replace("[ ", "[").split()
        if len(p) > 5 and p[0][1:-1].isdigit():
            found[p[1]] = (int(p[3], 16), int(p[5], 16))
    return found


def listed_functions(order_file, syms):
    names = [line.strip()[len(".text."):] for line in open(order_file)
             if line.startswith(".text.") and
             not line.startswith(".text.startup")]
    return [n for n in names if n not in MARKERS and n in syms]


class Mismatch(Exception):
    pass


def check_bolt(syms, sects, listed, begin, end):
    hot = tuple(syms.get(n, (None,))[0] for n in ("__hot_start", "__hot_end"))
    if (begin, end) != hot:
        raise Mismatch(f"the range 0x{begin:x}-0x{end:x} is not llvm-bolt's "
                       f"hot text {hot}")
    text = sects.get(".text")
    if not text or not text[0] <= begin < end <= text[0] + text[1]:
        raise Mismatch(f"the range 0x{begin:x}-0x{end:x} is outside .text "
                       f"{text}")
    if sects.get(".text.cold", (0, 0))[1] < 1 << 20:
        raise Mismatch("no cold blocks were split out of the hot functions "
                       "(.text.cold)")
    outside = [n for n in listed if not begin <= syms[n][0] < end]
    if len(outside) > 0.1 * len(listed):
        raise Mismatch(f"{len(outside)} of {len(listed)} listed functions are "
                       f"outside the hot text, e.g. {outside[0]}: was the "
                       "profile empty?")
    if end - begin > 6 << 20:
        raise Mismatch(f"the hot text is {end - begin} bytes: more than "
                       "gold's layout of the same functions")
    return (f"llvm-bolt's hot text: {end - begin} bytes, "
            f"{len(listed) - len(outside)} of {len(listed)} listed functions")


def check_gold(syms, listed, begin, end):
    if any(m not in syms for m in MARKERS):
        raise Mismatch(f"the plugin lacks {' or '.join(MARKERS)}")
    if (begin, end) != (syms[MARKERS[0]][0], syms[MARKERS[1]][0]):
        raise Mismatch(f"the range 0x{begin:x}-0x{end:x} is not the markers'")
    first = listed[:2000]
    # A few names are aliases of another function's code (C1/C2
    # constructors), placed with that function's section: out of order.
    # Without the order, about half of the pairs would be.
    out_of_order = [(a, b) for a, b in zip(first, first[1:])
                    if syms[a][0] >= syms[b][0]]
    if len(out_of_order) > 0.1 * len(first):
        raise Mismatch(f"{len(out_of_order)} of {len(first)} listed functions "
                       f"are not in the listed order, e.g. "
                       f"{out_of_order[0][1]} before {out_of_order[0][0]}: was "
                       "the plugin linked with gold and the order file?")
    span = syms[first[-1]][0] + syms[first[-1]][1] - syms[first[0]][0]
    size = sum(syms[n][1] for n in first)
    if span > 1.5 * size:
        raise Mismatch(f"the listed functions span {span} bytes for {size} "
                       "bytes of code")
    outside = [n for n in listed if not begin <= syms[n][0] < end]
    if len(outside) > 0.05 * len(listed):
        raise Mismatch(f"{len(outside)} of {len(listed)} listed functions are "
                       f"outside the markers (0x{begin:x}-0x{end:x}), e.g. "
                       f"{outside[0]}")
    inside = sum(syms[n][1] for n in listed if begin <= syms[n][0] < end)
    if end - begin > 1.5 * inside:
        raise Mismatch(f"the markers span {end - begin} bytes for {inside} "
                       "bytes of listed code")
    return (f"{len(first)} hot functions in order, {size} bytes in a span of "
            f"{span}; the markers bound {len(listed) - len(outside)} listed "
            f"functions in {end - begin} bytes")


def main(plugin, order_file, bolt):
    syms = symbols(plugin)
    sects = sections(plugin)
    listed = listed_functions(order_file, syms)
    if len(listed) < 2000:
        print(f"only {len(listed)} listed functions are in the plugin: "
              "regenerate the order (bench/order_codegen.py)")
        return 1
    try:
        recorded = layout_codegen.read_hot_range(plugin)
    except layout_codegen.LayoutError as e:
        print(e)
        return 1
    if recorded is None:
        print("no hot code range was written (layout_codegen.py)")
        return 1
    bolted = ".bolt.org.text" in sects
    if bolted != bolt:
        print(f"the plugin was {'' if bolted else 'not '}laid out by llvm-bolt"
              f", the build {'did not ask' if bolted else 'asked'} for it")
        return 1
    try:
        print(check_bolt(syms, sects, listed, *recorded) if bolted
              else check_gold(syms, listed, *recorded))
    except Mismatch as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--bolt"]
    sys.exit(main(args[0], args[1], "--bolt" in sys.argv[1:]))
