#!/usr/bin/env python3
"""Regenerates compiler/driver/codegen_section_order.txt.gz, the order in
which gold lays out the code generator plugin's functions: those a compile
runs first, together (docs/performance.md, "Hot functions first").

    bench/order_codegen.py --build-dir build-perf

Needs root (perf's page-fault events), perf, nm, gold and a configured build
tree (ninja). It compiles the standard scripts, the benchmark programs and
the language test programs with `hvt --no-cache -d asm` (nothing is loaded
into the kernel), in two steps:

1. Sampling: perf samples the compiles; every function of the plugin seen
   running is listed, the most sampled first, after the static
   initializers (.text.startup) and LLVM's command-line options (llvm::cl,
   all constructed when the plugin loads).
2. Page faults: the plugin is linked with that list and the compiles run
   again under perf's page-fault event. A fault in the plugin's code at a
   function not yet listed means the function runs: it is added, the plugin
   linked again, until a round finds fewer than --min-new new functions.

The list only moves code: a function missing from it still runs, from a
page of its own. Rerun this when LLVM or the code generator changes much.
"""
import argparse
import bisect
import collections
import glob
import gzip
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "compiler", "driver", "codegen_section_order.txt.gz")
PLUGIN = "compiler/driver/libhvt_codegen.so"


def programs():
    return sorted(glob.glob(os.path.join(ROOT, "scripts", "*.ht")) +
                  glob.glob(os.path.join(ROOT, "bench", "programs", "*.bt")) +
                  glob.glob(os.path.join(ROOT, "tests", "data", "language", "*.ht")))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def functions(plugin):
    """[(offset, name)] of the plugin's code symbols, sorted."""
    out = run(["nm", "--defined-only", plugin]).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16), p[2]))
    return sorted(syms)


def link_command(build):
    """The ninja command that links the plugin, writing to `output`."""
    cmd = run(["ninja", "-C", build, "-t", "commands", PLUGIN]).stdout
    line = cmd.strip().splitlines()[-1]
    return re.sub(r"^: && | && :$", "", line)


def link(build, command, order, output):
    cmd = re.sub(r" -fuse-ld=gold| -Wl,--section-ordering-file,\S+", "", command)
    cmd = cmd.replace(" -shared ", " -shared -fuse-ld=gold "
                      "-Wl,--section-ordering-file," + order + " ")
    cmd = cmd.replace("-o " + PLUGIN, "-o " + output)
    subprocess.run(cmd, shell=True, check=True, cwd=build)


def sampled(hvt, workdir, repeats):
    """Plugin functions perf saw running, most samples first."""
    counts = collections.Counter()
    data = os.path.join(workdir, "perf.data")
    for _ in range(repeats):
        for program in programs():
            subprocess.run(["perf", "record", "-q", "-F", "40000", "-o", data,
                            "--", hvt, "--no-cache", "-d", "asm", program],
                           capture_output=True)
            report = subprocess.run(
                ["perf", "report", "-i", data, "--no-demangle", "--dso",
                 "libhvt_codegen.so", "--sort", "sym", "-q", "-g", "none"],
                capture_output=True, text=True).stdout
            for line in report.splitlines():
                p = line.split()
                if len(p) >= 3 and p[-2] == "[.]":
                    counts[p[-1]] += 1
    return [name for name, _ in counts.most_common()]


MMAP = re.compile(r"PERF_RECORD_MMAP2 .*\[(0x[0-9a-f]+)\((0x[0-9a-f]+)\) @ 0 "
                  r".*r-xp .*libhvt_codegen\.so")


def faulting(hvt, plugin_dir, workdir):
    """Plugin functions whose code page faulted in, over every program."""
    syms = functions(os.path.join(plugin_dir, "libhvt_codegen.so"))
    starts = [s for s, _ in syms]
    found = set()
    data = os.path.join(workdir, "faults.data")
    for program in programs():
        subprocess.run(["perf", "record", "-q", "-e", "page-faults", "-c", "1",
                        "-d", "-o", data, "--", hvt, "--no-cache", "-d", "asm",
                        program], capture_output=True)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "addr",
                                 "--show-mmap-events"],
                                capture_output=True, text=True).stdout
        base = size = None
        for line in script.splitlines():
            m = MMAP.search(line)
            if m:
                base, size = int(m.group(1), 16), int(m.group(2), 16)
                continue
            if base is None or not re.fullmatch(r"\s*[0-9a-f]+\s*", line):
                continue
            offset = int(line, 16) - base
            i = bisect.bisect_right(starts, offset) - 1
            if 0 <= offset < size and i >= 0:
                found.add(syms[i][1])
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--samples", type=int, default=3,
                    help="sampling runs of every program (default 3)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--min-new", type=int, default=10)
    ap.add_argument("--output", default=OUTPUT)
    opts = ap.parse_args()
    build = os.path.abspath(opts.build_dir)
    run(["ninja", "-C", build, "hvt", "hvt_codegen_plugin"])
    command = link_command(build)
    with tempfile.TemporaryDirectory(prefix="hvt-order-") as workdir:
        # A copy of the driver folder, whose codegen plugin each round
        # replaces (hvt loads the plugin beside itself).
        driver = os.path.join(workdir, "driver")
        os.mkdir(driver)
        for name in ("hvt", "libhvt_codegen.so"):
            subprocess.run(["cp", os.path.join(build, "compiler", "driver", name),
                            driver], check=True)
        hvt = os.path.join(driver, "hvt")
        cl_options = [n for _, n in functions(os.path.join(driver, "libhvt_codegen.so"))
                      if n.startswith("_ZN4llvm2cl")]
        order = [n for n in sampled(hvt, workdir, opts.samples)
                 if not n.startswith("_GLOBAL__")]
        listed = set()
        names = []
        for n in order + cl_options:
            if n not in listed:
                listed.add(n)
                names.append(n)
        print(f"sampling: {len(order)} functions, {len(cl_options)} llvm::cl")
        order_file = os.path.join(workdir, "order.txt")
        for round_ in range(1, opts.rounds + 1):
            with open(order_file, "w") as f:
                f.write(".text.startup\n.text.startup.*\n")
                f.writelines(".text." + n + "\n" for n in names)
            link(build, command, order_file, os.path.join(driver, "libhvt_codegen.so"))
            new = sorted(n for n in faulting(hvt, driver, workdir)
                         if n not in listed and not n.startswith("_GLOBAL__"))
            print(f"round {round_}: {len(new)} new functions")
            listed.update(new)
            names.extend(new)
            if len(new) < opts.min_new:
                break
        with open(order_file, "w") as f:
            f.write(".text.startup\n.text.startup.*\n")
            f.writelines(".text." + n + "\n" for n in names)
        with open(order_file, "rb") as src, gzip.GzipFile(opts.output, "wb", 9, mtime=0) as dst:
            dst.write(src.read())
    print(f"wrote {opts.output}: {len(names) + 2} sections")


if __name__ == "__main__":
    sys.exit(main())
