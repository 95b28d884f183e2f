#!/usr/bin/env python3
"""Finishes the code generator plugin after gold links it (run by
compiler/driver/CMakeLists.txt; docs/performance.md, "The code generator's
layout, optimized by BOLT"):

1. With --bolt: llvm-bolt lays out the plugin again from a profile of
   compiles. The plugin, linked with its relocations (-q), is instrumented,
   `hvt --no-cache -d asm` compiles the training programs with the
   instrumented copy (nothing is loaded into the kernel), and llvm-bolt
   rewrites the plugin from the merged profile: the blocks a compile runs
   packed together, function by function, in the order they call each
   other, everything else moved out of their way.
2. Always: the hot code's range is written into the plugin's
   `hvt_hot_code_range` (codegen_backend.h), for warm_code_generator():
   llvm-bolt's hot text, or the section order's markers.

    layout_codegen.py PLUGIN
    layout_codegen.py PLUGIN --bolt LLVM_BOLT --merge-fdata MERGE_FDATA \\
        --hvt HVT --work-dir DIR PROGRAM...

The plugin is rewritten in place. Any failure is an error: a build that
asked for this layout does not quietly ship another one.
"""
import argparse
import glob
import os
import shutil
import struct
import subprocess
import sys

MAGIC = b"hvt-hot\0"  # kHotCodeRangeMagic
# llvm-bolt's layout: see docs/performance.md for what each one is for.
BOLT_OPTIONS = [
    "-reorder-blocks=ext-tsp", "-reorder-functions=cdsort",
    "-split-functions", "-split-all-cold", "-split-eh",
    "-reorder-functions-use-hot-size", "-cg-use-split-hot-size",
    "-align-functions=16", "-peepholes=all", "-hot-text",
]


class LayoutError(Exception):
    pass


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise LayoutError(f"{' '.join(cmd[:3])}... failed:\n"
                          f"{result.stderr.strip()[-2000:]}")
    return result.stdout


def symbols(plugin):
    """{name: address} of the plugin's defined symbols (its .symtab)."""
    found = {}
    for line in run(["nm", "--defined-only", plugin]).splitlines():
        fields = line.split()
        if len(fields) == 3:
            found[fields[2]] = int(fields[0], 16)
    return found


def file_offset(plugin, address):
    """Where the byte loaded at `address` is in the file."""
    for line in run(["readelf", "-lW", plugin]).splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"]:
            offset, vaddr, filesz = (int(f, 16) for f in fields[1:3] + fields[4:5])
            if vaddr <= address < vaddr + filesz:
                return offset + address - vaddr
    raise LayoutError(f"0x{address:x} is in no loaded part of {plugin}")


def hot_range_record(plugin, syms):
    """(address, file offset) of the plugin's hvt_hot_code_range."""
    record = syms.get("hvt_hot_code_range")
    if record is None:
        raise LayoutError(f"{plugin} has no hvt_hot_code_range")
    at = file_offset(plugin, record)
    with open(plugin, "rb") as f:
        f.seek(at)
        if f.read(len(MAGIC)) != MAGIC:
            raise LayoutError(f"hvt_hot_code_range in {plugin} does not "
                              f"start with {MAGIC!r}")
    return record, at + len(MAGIC)


def read_hot_range(plugin):
    """The range written into the plugin, as addresses; None if none was."""
    record, at = hot_range_record(plugin, symbols(plugin))
    with open(plugin, "rb") as f:
        f.seek(at)
        begin, end = struct.unpack("<qq", f.read(16))
    return (record + begin, record + end) if begin < end else None


def write_hot_range(plugin):
    syms = symbols(plugin)
    if "__hot_start" in syms and "__hot_end" in syms:
        begin, end = syms["__hot_start"], syms["__hot_end"]  # llvm-bolt's
    elif "hvt_hot_code_begin" in syms and "hvt_hot_code_end" in syms:
        begin, end = syms["hvt_hot_code_begin"], syms["hvt_hot_code_end"]
    else:
        raise LayoutError(f"{plugin} has neither llvm-bolt's hot text nor the "
                          "section order's markers")
    if not begin < end:
        raise LayoutError(f"empty hot code range 0x{begin:x}-0x{end:x}")
    record, at = hot_range_record(plugin, syms)
    with open(plugin, "r+b") as f:
        f.seek(at)
        f.write(struct.pack("<qq", begin - record, end - record))
    return begin, end


def profile(args, unbolted, work):
    """Compiles the training programs with an instrumented copy of the
    plugin; returns the merged profile."""
    instrumented = os.path.join(work, "instrumented.so")
    profiles = os.path.join(work, "profiles")
    shutil.rmtree(profiles, ignore_errors=True)
    os.makedirs(profiles)
    try:
        run([args.bolt, unbolted, "-instrument", "-o", instrumented,
             "--instrumentation-file=" + os.path.join(profiles, "compile"),
             "--instrumentation-file-append-pid"])
        env = dict(os.environ, HVT_CODEGEN=instrumented)
        failed = []
        for program in args.programs:
            result = subprocess.run(
                [args.hvt, "--no-cache", "-d", "asm", program], env=env,
                capture_output=True, text=True)
            if result.returncode != 0:
                failed.append((program, result.stderr.strip().splitlines()))
        compiled = len(args.programs) - len(failed)
        # Tracepoint programs need tracefs (root): without it, most fail.
        if compiled < 0.8 * len(args.programs):
            detail = "\n".join(f"  {p}: {e[0] if e else '?'}"
                               for p, e in failed[:5])
            raise LayoutError(
                f"only {compiled} of {len(args.programs)} training programs "
                f"compiled (as root, with tracefs?):\n{detail}\n"
                "configure with -DHVT_BOLT_CODEGEN=OFF to build without "
                "llvm-bolt")
        merged = os.path.join(work, "compile.fdata")
        with open(merged, "w") as out:
            out.write(run([args.merge_fdata] + sorted(
                glob.glob(os.path.join(profiles, "compile*")))))
    finally:  # ~200 MiB and ~20 MiB per compile
        if os.path.exists(instrumented):
            os.remove(instrumented)
        shutil.rmtree(profiles, ignore_errors=True)
    print(f"layout_codegen: profiled {compiled} of {len(args.programs)} "
          "training compiles")
    return merged


def bolt(args):
    work = args.work_dir
    os.makedirs(work, exist_ok=True)
    unbolted = os.path.join(work, "unbolted.so")
    shutil.copyfile(args.plugin, unbolted)
    try:
        merged = profile(args, unbolted, work)
        bolted = os.path.join(work, "bolted.so")
        run([args.bolt, unbolted, "-o", bolted, "-data=" + merged] +
            BOLT_OPTIONS)
    finally:
        os.remove(unbolted)
    shutil.copymode(args.plugin, bolted)
    os.replace(bolted, args.plugin)


def drop_from_page_cache(plugin):
    """Written in one go, the file sits in the page cache in large folios,
    which this kernel maps 2 MiB at a time: every run of this build would
    count whole 2 MiB pages of code in its RSS (kvmexits' peak 17.6 -> 32.3
    MiB, 3.8% faster, measured), which an installed copy, or this file
    once evicted, does not get. Dropped, the file is read back as it will
    be where it is installed."""
    fd = os.open(plugin, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("plugin")
    parser.add_argument("--bolt")
    parser.add_argument("--merge-fdata")
    parser.add_argument("--hvt")
    parser.add_argument("--work-dir")
    parser.add_argument("programs", nargs="*")
    args = parser.parse_intermixed_args()
    try:
        if args.bolt:
            if not (args.merge_fdata and args.hvt and args.work_dir and
                    args.programs):
                parser.error("--bolt needs --merge-fdata, --hvt, --work-dir "
                             "and training programs")
            bolt(args)
        begin, end = write_hot_range(args.plugin)
        drop_from_page_cache(args.plugin)
    except LayoutError as e:
        print(f"layout_codegen: error: {e}", file=sys.stderr)
        return 1
    print(f"layout_codegen: hot code 0x{begin:x}-0x{end:x} "
          f"({(end - begin) / 1048576:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
