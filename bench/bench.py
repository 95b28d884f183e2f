#!/usr/bin/env python3
"""hvt's benchmark suite: hvt against bpftrace and hand-written libbpf C.

Runs the contenders alternately, run by run, on the workloads and figures of
docs/performance.md and prints one table: medians with min-max, ratios taken
pair by pair (run i of hvt against run i of the other contender), and the
targets met or missed. Needs root (BPF), clang and bpftool for the C
contenders and bpftrace for the bpftrace column; missing contenders show as
"n/a". bench/run.sh installs them first.

Exit codes: 0 ran, 1 error, 77 cannot run here (not root, no BPF): ctest
reports that as skipped.
"""

import argparse
import fcntl
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
PROGRAMS = os.path.join(BENCH_DIR, "programs")
C_DIR = os.path.join(BENCH_DIR, "c")

SKIP = 77
BPFTRACE_MARKER = ("stderr", b"__BPFTRACE_NOTIFY_PROBES_ATTACHED")
ATTACHED_MARKER = ("stdout", b"Attaching ")

# Contenders, in table order. "hvt" compiles every time (--no-cache);
# "hvt-cached" runs with a warmed compile cache.
HVT, HVT_CACHED, BPFTRACE, C = "hvt", "hvt-cached", "bpftrace", "C"
CONTENDERS = [HVT, HVT_CACHED, BPFTRACE, C]
# Rows whose ratios mean nothing (a share of zero is the good case).
NO_RATIO = {"5 printf: lost records %"}

# Workloads: script for hvt and bpftrace, hand-written C program, and the
# probes whose programs are compared (role: regex on the program's name).
WORKLOADS = {
    "a": {
        "title": "(a) count per tid",
        "script": "count.bt",
        "c": "count",
        "roles": [("sys_enter", r"sys_enter")],
        "events": True,
    },
    "b": {
        "title": "(b) syscall latency hist",
        "script": "latency.bt",
        "c": "latency",
        "roles": [("sys_enter", r"sys_enter"), ("sys_exit", r"sys_exit")],
        "events": True,
    },
    "c": {
        "title": "(c) kvmexits",
        "script": "kvmexits.bt",
        "c": "kvmexits",
        "roles": [("kvm_exit", r"kvm_exit"), ("kvm_entry", r"kvm_entry"),
                  ("BEGIN", r"BEGIN")],
        "events": False,  # the kvm tracepoints never fire on this machine
    },
    "d": {
        "title": "(d) printf per syscall",
        "script": "printf.bt",
        "c": "printf",
        "roles": [("sys_enter", r"sys_enter")],
        "events": True,
        "pid_arg": True,
    },
}


# --------------------------------------------------------------------------
# small helpers


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def median(xs):
    return statistics.median(xs) if xs else None


class Sample:
    """Values of one metric for one contender, run by run (None: failed)."""

    def __init__(self):
        self.values = []

    def add(self, v):
        self.values.append(v)

    def ok(self):
        return [v for v in self.values if v is not None]


def ratio_sample(a, b):
    """Pair-by-pair ratios of two Samples (same run index)."""
    out = Sample()
    for x, y in zip(a.values, b.values):
        if x is None or y is None:
            out.add(None)
        elif y:
            out.add(x / y)
    return out


def fmt_num(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_sample(s, ratio=False):
    vals = s.ok() if s else []
    if not vals:
        failed = s and any(v is None for v in s.values)
        return "fail" if failed else "n/a"
    m = median(vals)
    text = fmt_num(m) + ("x" if ratio else "")
    if len(vals) > 1:
        text += f" [{fmt_num(min(vals))}-{fmt_num(max(vals))}]"
    return text


# --------------------------------------------------------------------------
# building the hand-written contenders and helpers


class Builder:
    def __init__(self, out_dir, clang, bpftool, cc):
        self.out = out_dir
        self.clang = clang
        self.bpftool = bpftool
        self.cc = cc
        os.makedirs(out_dir, exist_ok=True)
        self.arch_include = "/usr/include/" + \
            f"{platform.machine()}-linux-gnu"

    def _stale(self, target, sources):
        if not os.path.exists(target):
            return True
        t = os.path.getmtime(target)
        return any(os.path.getmtime(s) > t for s in sources)

    def host_program(self, name, sources, libs=()):
        exe = os.path.join(self.out, name)
        if self._stale(exe, sources):
            run([self.cc, "-O2", "-Wall", "-Wextra", "-I", self.out, "-I",
                 C_DIR, "-o", exe] + list(sources) + list(libs))
        return exe

    def bpf_contender(self, name, bpf_source, loader_source):
        """clang -O2 -target bpf, a skeleton, and the loader linked to it."""
        obj = os.path.join(self.out, name + ".bpf.o")
        skel = os.path.join(self.out, name + ".skel.h")
        if self._stale(obj, [bpf_source, os.path.join(C_DIR, "bpf_common.h")]):
            run([self.clang, "-O2", "-g", "-target", "bpf", "-mcpu=v3",
                 "-I", C_DIR, "-I", self.arch_include, "-c", bpf_source,
                 "-o", obj])
        if self._stale(skel, [obj]):
            with open(skel, "w") as f:
                run([self.bpftool, "gen", "skeleton", obj, "name",
                     name + "_bpf"], stdout=f)
        exe = os.path.join(self.out, name)
        if self._stale(exe, [loader_source, skel,
                             os.path.join(C_DIR, "loader.h")]):
            run([self.cc, "-O2", "-Wall", "-Wextra", "-I", self.out, "-I",
                 C_DIR, "-o", exe, loader_source, "-lbpf"])
        return exe


# --------------------------------------------------------------------------
# scale workloads: generated for every contender


def syscall_tracepoints(n):
    events = "/sys/kernel/tracing/events/syscalls"
    names = sorted(e for e in os.listdir(events)
                   if e.startswith("sys_enter_"))
    if len(names) < n:
        raise RuntimeError(f"only {len(names)} syscall tracepoints")
    return names[:n]


def gen_probes_script(path, n):
    with open(path, "w") as f:
        f.write(f"// Scale: {n} probes.\n")
        for i, tp in enumerate(syscall_tracepoints(n)):
            f.write(f"tracepoint:syscalls:{tp} {{ @c[{i}] = count(); }}\n")


def gen_probes_c(out_dir, n):
    bpf = os.path.join(out_dir, f"probes{n}.bpf.c")
    loader = os.path.join(out_dir, f"probes{n}.c")
    with open(bpf, "w") as f:
        f.write('#include "bpf_common.h"\n\n'
                "struct {\n  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);\n"
                f"  __uint(max_entries, {n});\n  __type(key, __u32);\n"
                "  __type(value, __u64);\n} c SEC(\".maps\");\n\n"
                "static __always_inline void bump(__u32 i) {\n"
                "  __u64 *v = bpf_map_lookup_elem(&c, &i);\n"
                "  if (v)\n    *v += 1;\n}\n")
        for i, tp in enumerate(syscall_tracepoints(n)):
            f.write(f'\nSEC("tracepoint/syscalls/{tp}")\n'
                    f"int p{i}(void *ctx) {{\n  bump({i});\n  return 0;\n}}\n")
    with open(loader, "w") as f:
        f.write('#include "loader.h"\n\n'
                f'#include "probes{n}.skel.h"\n\n'
                "int main(void) {\n  loader_init();\n"
                f"  struct probes{n}_bpf *skel = probes{n}_bpf__open_and_load();\n"
                "  if (!skel)\n    return loader_fail(\"loading\", errno);\n"
                f"  int err = probes{n}_bpf__attach(skel);\n"
                "  if (err)\n    return loader_fail(\"attaching\", err);\n"
                f"  loader_attached({n});\n  loader_wait();\n"
                f"  probes{n}_bpf__destroy(skel);\n  return 0;\n}}\n")
    return bpf, loader


TABLE_ENTRIES = 1000


def gen_table_script(path):
    with open(path, "w") as f:
        f.write(f"// Scale: a {TABLE_ENTRIES}-entry table built in BEGIN.\n"
                "BEGIN\n{\n")
        for i in range(TABLE_ENTRIES):
            f.write(f'  @name[{i}] = "name_{i}";\n')
        f.write("}\n\ntracepoint:syscalls:sys_enter_kill\n{\n"
                "  @kills[@name[args->sig]] = count();\n}\n\n"
                "END\n{\n  clear(@name);\n}\n")


def gen_table_c(out_dir):
    bpf = os.path.join(out_dir, "table.bpf.c")
    loader = os.path.join(out_dir, "table.c")
    with open(bpf, "w") as f:
        f.write('#include "bpf_common.h"\n\n'
                "struct name { char s[16]; };\n\n"
                "struct {\n  __uint(type, BPF_MAP_TYPE_HASH);\n"
                f"  __uint(max_entries, {TABLE_ENTRIES});\n"
                "  __type(key, __u64);\n  __type(value, struct name);\n"
                "} names SEC(\".maps\");\n\n"
                "struct {\n  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);\n"
                "  __uint(map_flags, BPF_F_NO_PREALLOC);\n"
                "  __uint(max_entries, 4096);\n  __type(key, struct name);\n"
                "  __type(value, __u64);\n} kills SEC(\".maps\");\n\n"
                "struct kill_record { __u64 common; int nr; long pid; "
                "long sig; };\n\n"
                'SEC("tracepoint/syscalls/sys_enter_kill")\n'
                "int on_kill(struct kill_record *ctx) {\n"
                "  __u64 sig = ctx->sig;\n"
                "  struct name empty = {}, *n = bpf_map_lookup_elem(&names, &sig);\n"
                "  if (!n)\n    n = &empty;\n"
                "  __u64 *v = bpf_map_lookup_elem(&kills, n);\n"
                "  if (v) {\n    *v += 1;\n  } else {\n    __u64 one = 1;\n"
                "    bpf_map_update_elem(&kills, n, &one, BPF_NOEXIST);\n  }\n"
                "  return 0;\n}\n")
    with open(loader, "w") as f:
        f.write('#include "loader.h"\n\n#include "table.skel.h"\n\n'
                "struct name { char s[16]; };\n\n"
                "int main(void) {\n  loader_init();\n"
                "  struct table_bpf *skel = table_bpf__open_and_load();\n"
                "  if (!skel)\n    return loader_fail(\"loading\", errno);\n"
                f"  static uint64_t keys[{TABLE_ENTRIES}];\n"
                f"  static struct name values[{TABLE_ENTRIES}];\n"
                f"  for (int i = 0; i < {TABLE_ENTRIES}; ++i) {{\n"
                "    keys[i] = (uint64_t)i;\n"
                "    snprintf(values[i].s, sizeof(values[i].s), \"name_%d\", i);\n"
                "  }\n"
                f"  uint32_t count = {TABLE_ENTRIES};\n"
                "  int err = bpf_map_update_batch(bpf_map__fd(skel->maps.names),"
                " keys, values, &count, NULL);\n"
                "  if (err)\n    return loader_fail(\"filling the table\", err);\n"
                "  err = table_bpf__attach(skel);\n"
                "  if (err)\n    return loader_fail(\"attaching\", err);\n"
                "  loader_attached(1);\n  loader_wait();\n"
                "  table_bpf__destroy(skel);\n  return 0;\n}\n")
    return bpf, loader


# --------------------------------------------------------------------------
# running a tracer


def wait_for_background_release(timeout=120):
    """Waits for hvt's background process that releases the perf events of
    the probes it detached (hvt-detach): until it is done, attaching
    tracepoints waits for it in the kernel, which would slow the next run,
    whichever contender's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # A zombie (state Z) has released everything.
            if "(hvt-detach) " in stat and stat.split(") ", 1)[1][:1] != "Z":
                busy = True
                break
        if not busy:
            return
        time.sleep(0.05)


class Tracer:
    """One tracer process: started, timed to its 'attached' line, stopped.

    `marker` is (stream, bytes): the line that says the probes are attached,
    on "stdout" or "stderr" (bpftrace writes its notification to stderr).
    """

    def __init__(self, argv, marker, env=None):
        self.argv = argv
        self.marker_stream, self.marker = marker
        self.env = env
        self.attached_at = None
        self.lines = 0
        self.head = {"stdout": b"", "stderr": b""}
        self.err = b""
        self.timeline = {}  # phase -> ms from exec (HVT_TIMELINE)
        self._partial = b""
        self._event = threading.Event()

    def start(self):
        if self.env is not None and "HVT_TIMELINE" in self.env:
            # The origin hvt's timeline counts from: this exec.
            self.env = dict(self.env,
                            HVT_TIMELINE=str(time.monotonic_ns()))
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self.env)
        self._readers = [
            threading.Thread(target=self._read, args=(name, pipe),
                             daemon=True)
            for name, pipe in (("stdout", self.proc.stdout),
                               ("stderr", self.proc.stderr))]
        for r in self._readers:
            r.start()

    def _read(self, name, pipe):
        fd = pipe.fileno()
        watch = name == self.marker_stream
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            if name == "stdout":
                self.lines += chunk.count(b"\n")
            else:
                self.err = (self.err + chunk)[-4096:]
                self._timeline_lines(chunk)
            if watch and self.attached_at is None:
                self.head[name] += chunk
                if self.marker in self.head[name]:
                    self.attached_at = time.perf_counter()
                    self._event.set()
        if watch:
            self._event.set()

    def _timeline_lines(self, chunk):
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            fields = line.split()
            if len(fields) == 3 and fields[0] == b"hvt-timeline":
                self.timeline.setdefault(fields[2].decode(),
                                         float(fields[1]))

    def _join(self):
        for r in self._readers:
            r.join(5)

    def wait_attached(self, timeout):
        """Milliseconds from exec to the attached marker, or None."""
        self._event.wait(timeout)
        if self.attached_at is None:
            return None
        return (self.attached_at - self.t0) * 1000

    def memory_kib(self):
        """(VmHWM, VmRSS): the peak so far and the current RSS, in KiB."""
        found = {}
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    key = line.split(":", 1)[0]
                    if key in ("VmHWM", "VmRSS"):
                        found[key] = int(line.split()[1])
        except OSError:
            pass
        return found.get("VmHWM"), found.get("VmRSS")

    def stop(self, timeout=30):
        # A second SIGINT only after a long pause: a tracer may miss one
        # sent right after it attached (bpftrace 0.17 sometimes does), but
        # detaching 100 probes takes every contender ~6 s here (an RCU grace
        # period per perf event), and hvt ends at once on a second Ctrl-C.
        # exit_ms: from the Ctrl-C to the tracer's exit, when one was enough.
        deadline = time.monotonic() + max(timeout, 40)
        pause = 20
        signals = 0
        self.exit_ms = None
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.proc.send_signal(signal.SIGINT)
            signals += 1
            if signals == 1:
                sent = time.perf_counter()
            try:
                self.proc.wait(pause)
                if signals == 1:
                    self.exit_ms = (time.perf_counter() - sent) * 1000
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._join()
        wait_for_background_release()
        return self.proc.returncode

    def wait_exit(self, timeout):
        """Milliseconds from exec to exit (for programs that exit)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        t = (time.perf_counter() - self.t0) * 1000
        self._join()
        return t if self.proc.returncode == 0 else None


# --------------------------------------------------------------------------
# the suite


class Suite:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = 1 if args.quick else args.runs
        self.out = args.build_dir
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="hvt-bench-")
        self.cache_dir = os.path.join(self.tmp, "cache")
        self.results = {}  # (figure, row, contender) -> Sample
        self.rows = []     # (figure, row) in print order
        self.notes = []
        self.available = {}
        self.hvt = args.hvt
        self.hvt_has_cache = False
        self.kvmexits_hvt = None
        self.baseline = Sample()  # untraced loop, ns per call
        self.stats_saved = None  # kernel.bpf_stats_enabled to restore
        self.failures = set()  # (contender, program) already reported

    # --- setup -------------------------------------------------------------

    def setup(self):
        if os.geteuid() != 0:
            log("bench: needs root (loading BPF programs); skipped")
            sys.exit(SKIP)
        if not os.path.isdir("/sys/kernel/tracing/events/raw_syscalls"):
            log("bench: no tracefs raw_syscalls events; skipped")
            sys.exit(SKIP)
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            log("bench: no C compiler")
            sys.exit(1)
        self.builder = Builder(os.path.join(self.out, "c"),
                               self.args.clang, self.args.bpftool, cc)
        self.sysloop = self.builder.host_program(
            "sysloop", [os.path.join(C_DIR, "sysloop.c")])
        self.proginfo = self.builder.host_program(
            "proginfo", [os.path.join(C_DIR, "proginfo.c")], ["-lbpf"])

        self.available[HVT] = bool(self.hvt and os.access(self.hvt, os.X_OK))
        if not self.available[HVT]:
            log(f"bench: no hvt binary at {self.hvt}")
            sys.exit(1)
        help_text = subprocess.run([self.hvt, "--help"], capture_output=True,
                                   text=True).stdout
        self.hvt_has_cache = "--no-cache" in help_text
        self.available[HVT_CACHED] = self.hvt_has_cache
        if not self.hvt_has_cache:
            self.notes.append("hvt has no compile cache (--no-cache): the "
                              "hvt-cached column is n/a")
        kvmexits = os.path.join(SOURCE_DIR, "scripts", "kvmexits.ht")
        self.kvmexits_hvt = kvmexits if os.path.exists(kvmexits) else None
        if not self.kvmexits_hvt:
            self.notes.append("scripts/kvmexits.ht not found: hvt runs "
                              "bench/programs/kvmexits.bt for workload (c)")

        self.available[BPFTRACE] = bool(
            self.args.bpftrace and shutil.which(self.args.bpftrace))
        if not self.available[BPFTRACE]:
            self.notes.append("bpftrace not installed: its column is n/a")

        self.c_bins = {}
        have_c = bool(shutil.which(self.args.clang) and
                      shutil.which(self.args.bpftool))
        self.available[C] = have_c
        if have_c:
            for w in ["count", "latency", "kvmexits", "printf", "begin_exit"]:
                self.c_bins[w] = self.builder.bpf_contender(
                    w, os.path.join(C_DIR, w + ".bpf.c"),
                    os.path.join(C_DIR, w + ".c"))
            gen = os.path.join(self.out, "c")
            for n in self.scale_sizes():
                bpf, loader = gen_probes_c(gen, n)
                self.c_bins[f"probes{n}"] = self.builder.bpf_contender(
                    f"probes{n}", bpf, loader)
            bpf, loader = gen_table_c(gen)
            self.c_bins["table"] = self.builder.bpf_contender(
                "table", bpf, loader)
        else:
            self.notes.append(f"{self.args.clang} or {self.args.bpftool} "
                              "missing: the C column is n/a")

        self.scripts = {}
        gen = os.path.join(self.out, "scripts")
        os.makedirs(gen, exist_ok=True)
        for n in self.scale_sizes():
            path = os.path.join(gen, f"probes{n}.bt")
            gen_probes_script(path, n)
            self.scripts[f"probes{n}"] = path
        path = os.path.join(gen, "table.bt")
        gen_table_script(path)
        self.scripts["table"] = path

        # One run at a time: two would disturb each other's numbers and
        # restore kernel.bpf_stats_enabled in the wrong order.
        self.lock = open("/run/hvt-bench.lock", "w")
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("bench: another run of the suite is in progress")
            sys.exit(1)
        try:
            with open("/proc/sys/kernel/bpf_stats_enabled") as f:
                self.stats_saved = f.read().strip()
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write("1")
        except OSError as e:
            self.notes.append(f"cannot enable kernel.bpf_stats_enabled: {e}")

    def cleanup(self):
        if self.stats_saved is not None:
            try:
                with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                    f.write(self.stats_saved)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def scale_sizes(self):
        return [1, 10, 100]

    # --- contender command lines ------------------------------------------

    def env(self, contender):
        env = dict(os.environ)
        if contender == BPFTRACE:
            env["__BPFTRACE_NOTIFY_PROBES_ATTACHED"] = "1"
        if contender in (HVT, HVT_CACHED):
            env["HVT_CACHE_DIR"] = self.cache_dir
        return env

    def command(self, contender, name, extra=()):
        """argv and marker for running program `name` under `contender`."""
        extra = [str(x) for x in extra]
        if contender == C:
            binary = self.c_bins.get(name)
            if not binary:
                return None, None
            return [binary] + extra, ATTACHED_MARKER
        script = self.script_path(name, contender)
        if contender == BPFTRACE:
            return [self.args.bpftrace, script] + extra, BPFTRACE_MARKER
        argv = [self.hvt]
        if contender == HVT and self.hvt_has_cache:
            argv.append("--no-cache")
        return argv + [script] + extra, ATTACHED_MARKER

    def script_path(self, name, contender):
        if name in self.scripts:
            return self.scripts[name]
        if name == "kvmexits" and contender in (HVT, HVT_CACHED) \
                and self.kvmexits_hvt:
            return self.kvmexits_hvt
        fixed = {"count": "count.bt", "latency": "latency.bt",
                 "kvmexits": "kvmexits.bt", "printf": "printf.bt",
                 "begin_exit": "begin_exit.bt"}
        return os.path.join(PROGRAMS, fixed[name])

    def contenders(self):
        return [c for c in CONTENDERS if self.available.get(c)]

    def rounds(self):
        """Contender order per round: alternating, the start rotating."""
        order = self.contenders()
        for i in range(self.runs):
            k = i % len(order)
            yield i, order[k:] + order[:k]

    def warm_cache(self, names, extra_for=None):
        if not self.hvt_has_cache:
            return
        for name in names:
            extra = extra_for(name) if extra_for else ()
            argv, marker = self.command(HVT_CACHED, name, extra)
            t = Tracer(argv, marker, self.env(HVT_CACHED))
            t.start()
            t.wait_attached(60)
            t.stop()

    # --- measurements -----------------------------------------------------

    def sample(self, figure, row, contender):
        key = (figure, row, contender)
        if (figure, row) not in self.rows:
            self.rows.append((figure, row))
        return self.results.setdefault(key, Sample())

    def attach_run(self, contender, name, extra=(), settle=0.2,
                   workload=None):
        """Starts a tracer, times its attach, reads RSS and programs."""
        argv, marker = self.command(contender, name, extra)
        if not argv:
            return None
        t = Tracer(argv, marker, self.env(contender))
        t.start()
        ms = t.wait_attached(120)
        result = {"startup": ms, "rss": None, "rss_now": None, "progs": None,
                  "exit": None}
        if ms is not None:
            time.sleep(settle)
            result["rss"], result["rss_now"] = t.memory_kib()
            if workload:
                result["progs"] = self.programs(t.proc.pid)
        code = t.stop()
        result["exit"] = t.exit_ms
        if ms is None or code not in (0, None):
            self.log_failure(contender, name, code, t.err)
            if ms is not None and code not in (0, None):
                result["startup"] = None
        return result

    def log_failure(self, contender, name, code, err):
        """Says once per contender and program why a run failed."""
        if (contender, name) in self.failures:
            return
        self.failures.add((contender, name))
        lines = err.decode(errors="replace").strip().splitlines()
        errors = [line for line in lines if "error" in line.lower()]
        why = (errors or lines or ["no message"])[0][:300]
        log(f"bench: {contender} {name} failed (exit {code}): {why}")

    def programs(self, pid):
        jit = os.path.join(self.tmp, f"jit-{pid}")
        os.makedirs(jit, exist_ok=True)
        out = subprocess.run([self.proginfo, str(pid), jit],
                             capture_output=True, text=True)
        try:
            progs = json.loads(out.stdout)
        except ValueError:
            return None
        for p in progs:
            p["jited_insns"] = self.jited_insns(
                os.path.join(jit, f"{p['id']}.bin"))
        shutil.rmtree(jit, ignore_errors=True)
        return progs

    def jited_insns(self, path):
        if not shutil.which("objdump") or not os.path.exists(path):
            return None
        out = subprocess.run(
            ["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", path],
            capture_output=True, text=True).stdout
        return sum(1 for line in out.splitlines()
                   if re.match(r"^\s+[0-9a-f]+:\t[0-9a-f]{2} ", line))

    @staticmethod
    def role_programs(progs, roles):
        """Programs by role name: the first whose name matches the role."""
        found = {}
        for role, pattern in roles:
            for p in progs or []:
                name = p.get("btf_name") or p.get("name", "")
                if re.search(pattern, name) and p["id"] not in [
                        q["id"] for q in found.values()]:
                    found[role] = p
                    break
        return found

    def figure_startup_memory_size(self):
        log("bench: startup, memory and program size (workloads a-d)")
        self.warm_cache([spec["c"] for spec in WORKLOADS.values()] +
                        ["begin_exit"],
                        lambda n: [os.getpid()] if n == "printf" else ())
        for i, order in self.rounds():
            for w, spec in WORKLOADS.items():
                extra = [os.getpid()] if spec.get("pid_arg") else []
                for contender in order:
                    r = self.attach_run(contender, spec["c"], extra,
                                        workload=w)
                    if r is None:
                        continue
                    self.sample("1 startup ms", spec["title"],
                                contender).add(r["startup"])
                    self.sample("4 peak RSS MiB", spec["title"],
                                contender).add(
                        r["rss"] / 1024 if r["rss"] else None)
                    self.sample("4 RSS attached MiB", spec["title"],
                                contender).add(
                        r["rss_now"] / 1024 if r["rss_now"] else None)
                    if i == 0 and r["progs"] is not None:
                        roles = self.role_programs(r["progs"], spec["roles"])
                        for role, _ in spec["roles"]:
                            p = roles.get(role)
                            row = f"{spec['title']}: {role}"
                            xlated = self.sample("3 xlated insns", row,
                                                 contender)
                            jited = self.sample("3 jited insns", row,
                                                contender)
                            if p:  # else: no such program (C has no BEGIN)
                                xlated.add(p["xlated_insns"])
                                jited.add(p["jited_insns"])
            self.begin_exit_round(order)

    # What hvt's kvmexits start spends its time on (runtime/timeline.h):
    # separate runs, since writing the timeline takes time of its own.
    PHASES = ["main", "cache-miss", "front-end-done", "codegen-loaded",
              "compile-start", "compiled", "cache-hit", "loaded",
              "attached"]
    SPANS = [("front end", "front-end-start", "front-end-done"),
             ("code generator load", "codegen-load-start", "codegen-loaded"),
             ("compile: IR to object", "compile-start", "compiled"),
             ("libbpf: load", "compiled", "loaded"),
             ("libbpf: attach", "loaded", "attached")]

    def figure_startup_phases(self):
        spec = WORKLOADS["c"]
        hvts = [c for c in (HVT, HVT_CACHED) if self.available.get(c)]
        if not hvts:
            return
        log("bench: where hvt's kvmexits start goes (HVT_TIMELINE)")
        for i in range(self.runs):
            for contender in hvts if i % 2 == 0 else hvts[::-1]:
                argv, marker = self.command(contender, spec["c"])
                env = dict(self.env(contender), HVT_TIMELINE="exec")
                t = Tracer(argv, marker, env)
                t.start()
                t.wait_attached(120)
                t.stop()
                if "attached" not in t.timeline:
                    self.log_failure(contender, "timeline", None, t.err)
                    continue
                for phase in self.PHASES:
                    if phase in t.timeline:
                        self.sample("1 hvt start ms", f"kvmexits: {phase}",
                                    contender).add(t.timeline[phase])
                for name, begin, end in self.SPANS:
                    if begin in t.timeline and end in t.timeline:
                        self.sample("1 hvt start ms", f"kvmexits: {name}",
                                    contender).add(t.timeline[end] -
                                                   t.timeline[begin])

    def startup_floor(self):
        """What the uncached start cannot go below with LLVM in the process,
        as multiples of the C loader's start (medians): the C loader's start
        plus hvt's compile alone (IR to object), and plus the code
        generator's load too (as measured, beside the front end)."""
        kvm = WORKLOADS["c"]["title"]
        c = self.results.get(("1 startup ms", kvm, C))
        compile_ms, load_ms = [
            self.results.get(("1 hvt start ms", f"kvmexits: {name}", HVT))
            for name in ("compile: IR to object", "code generator load")]
        if not c or not c.ok() or not compile_ms or not compile_ms.ok() \
                or not load_ms or not load_ms.ok():
            return None
        c_ms = median(c.ok())
        with_compile = c_ms + median(compile_ms.ok())
        with_load = with_compile + median(load_ms.ok())
        return with_compile / c_ms, with_load / c_ms

    def begin_exit_round(self, order):
        for contender in order:
            argv, marker = self.command(contender, "begin_exit")
            if not argv:
                continue
            t = Tracer(argv, marker, self.env(contender))
            t.start()
            self.sample("1 startup ms", "BEGIN { exit() } to exit",
                        contender).add(t.wait_exit(60))

    def loop_calls(self):
        return 200_000 if self.quick else 2_000_000

    def run_loop(self, calls, rate=0):
        out = subprocess.run([self.sysloop, str(calls), str(rate)],
                             capture_output=True, text=True, check=True)
        parts = out.stdout.split()
        return float(parts[2])  # ns per call

    def figure_per_event(self):
        log("bench: per-event cost and syscall loop slowdown")
        calls = self.loop_calls()
        self.run_loop(calls // 10)  # warm up
        for i, order in self.rounds():
            for w in ["a", "b", "d"]:
                spec = WORKLOADS[w]
                baseline = self.run_loop(calls)
                self.baseline.add(baseline)
                for contender in order:
                    if contender == HVT_CACHED:
                        continue  # the same programs as hvt
                    r = self.traced_loop(contender, spec, calls)
                    if r is None:
                        continue
                    ns, per_role = r
                    self.sample("2 loop slowdown", spec["title"],
                                contender).add(ns / baseline)
                    for role, _ in spec["roles"]:
                        self.sample("2 ns per event",
                                    f"{spec['title']}: {role}",
                                    contender).add(per_role.get(role))

    def traced_loop(self, contender, spec, calls):
        """Runs the syscall loop under a tracer: (loop ns per call,
        {role: BPF run time per invocation in ns}). The loop waits for the
        tracer, which gets its pid where the workload filters on one."""
        loop = subprocess.Popen([self.sysloop, str(calls), "0", "wait"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        extra = [loop.pid] if spec.get("pid_arg") else []
        argv, marker = self.command(contender, spec["c"], extra)
        t = Tracer(argv, marker, self.env(contender)) if argv else None
        if t:
            t.start()
        if not t or t.wait_attached(120) is None:
            if t:
                t.stop()
            loop.kill()
            loop.wait()
            return None
        before = self.role_programs(self.programs_light(t.proc.pid),
                                    spec["roles"])
        loop.stdin.write("go\n")
        loop.stdin.close()
        out = loop.stdout.read()
        loop.wait()
        after = self.role_programs(self.programs_light(t.proc.pid),
                                   spec["roles"])
        t.stop()
        per_role = {}
        for role, _ in spec["roles"]:
            a, b = after.get(role), before.get(role)
            if a and b and a["run_cnt"] > b["run_cnt"]:
                per_role[role] = (a["run_time_ns"] - b["run_time_ns"]) / \
                    (a["run_cnt"] - b["run_cnt"])
        return float(out.split()[2]), per_role

    def programs_light(self, pid):
        out = subprocess.run([self.proginfo, str(pid)], capture_output=True,
                             text=True)
        try:
            return json.loads(out.stdout)
        except ValueError:
            return []

    def figure_scale(self):
        log("bench: scale (1, 10, 100 probes; "
            f"{TABLE_ENTRIES}-entry BEGIN table)")
        names = [f"probes{n}" for n in self.scale_sizes()] + ["table"]
        self.warm_cache(names)
        for i, order in self.rounds():
            for name in names:
                row = (f"{name[6:]} probes" if name.startswith("probes")
                       else f"{TABLE_ENTRIES}-entry BEGIN table")
                for contender in order:
                    r = self.attach_run(contender, name, settle=0.1)
                    if r is None:
                        continue
                    self.sample("5 scale: startup ms", row,
                                contender).add(r["startup"])
                    self.sample("5 scale: peak RSS MiB", row,
                                contender).add(
                        r["rss"] / 1024 if r["rss"] else None)
                    if name.startswith("probes"):
                        self.sample("5 scale: exit ms", row,
                                    contender).add(r["exit"])

    def printf_throughput(self, contender, calls, rate):
        """(offered events/s, delivered events/s, lost fraction)."""
        loop = subprocess.Popen([self.sysloop, str(calls), str(rate), "wait"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        argv, marker = self.command(contender, "printf", [loop.pid])
        t = Tracer(argv, marker, self.env(contender))
        t.start()
        if t.wait_attached(120) is None:
            t.stop()
            loop.kill()
            loop.wait()
            return None
        lines_before = t.lines
        start = time.perf_counter()
        loop.stdin.write("go\n")
        loop.stdin.close()
        out = loop.stdout.read()
        loop.wait()
        elapsed = time.perf_counter() - start
        # Let the tracer drain what it has, then stop it.
        last, stable = -1, 0
        while stable < 3 and time.perf_counter() - start < elapsed + 10:
            time.sleep(0.1)
            stable = stable + 1 if t.lines == last else 0
            last = t.lines
        t.stop()
        loop_ns = float(out.split()[1])
        # Every traced call prints one line; getppid is not the only syscall
        # the loop makes, so count up to `calls` lines as delivered.
        delivered = min(t.lines - lines_before, calls)
        offered = calls / (loop_ns / 1e9)
        return offered, delivered / max(elapsed, loop_ns / 1e9), \
            1 - delivered / calls

    def figure_printf(self):
        log("bench: printf path throughput")
        calls = 100_000 if self.quick else 1_000_000
        rates = [0] if self.quick else [100_000, 200_000, 400_000, 800_000, 0]
        for i, order in self.rounds():
            for contender in order:
                if contender == HVT_CACHED:
                    continue
                best = None
                for rate in rates:
                    r = self.printf_throughput(contender, calls, rate)
                    if r is None:
                        break
                    offered, delivered, lost = r
                    if rate == 0:
                        self.sample("5 printf: delivered events/s (k)",
                                    "unpaced loop", contender).add(
                            delivered / 1000)
                        self.sample("5 printf: lost records %",
                                    "unpaced loop", contender).add(lost * 100)
                    if lost <= 0.001:
                        best = max(best or 0, offered)
                if len(rates) > 1:
                    self.sample("5 printf: lossless events/s (k)",
                                "highest paced rate", contender).add(
                        best / 1000 if best else None)

    # --- report -----------------------------------------------------------

    def table(self):
        cols = self.contenders()
        head = ["figure", "workload"] + cols
        pairs = []
        if HVT in cols and BPFTRACE in cols:
            pairs.append((HVT, BPFTRACE))
        if HVT in cols and C in cols:
            pairs.append((HVT, C))
        if HVT_CACHED in cols and C in cols:
            pairs.append((HVT_CACHED, C))
        head += [f"{a}/{b}" for a, b in pairs]
        rows = []
        order = ["1 startup ms", "1 hvt start ms", "2 ns per event",
                 "2 loop slowdown", "3 xlated insns", "3 jited insns",
                 "4 peak RSS MiB", "4 RSS attached MiB"]
        ranked = sorted(self.rows, key=lambda fr: order.index(fr[0])
                        if fr[0] in order else len(order))
        for figure, row in ranked:
            cells = [figure[2:], row]
            for c in cols:
                cells.append(fmt_sample(self.results.get((figure, row, c))))
            for a, b in pairs:
                sa = self.results.get((figure, row, a))
                sb = self.results.get((figure, row, b))
                meaningful = sa and sb and figure not in NO_RATIO
                cells.append(fmt_sample(ratio_sample(sa, sb), ratio=True)
                             if meaningful else "")
            rows.append(cells)
        widths = [max(len(r[i]) for r in rows + [head])
                  for i in range(len(head))]
        lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths))
                 + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(c.ljust(w)
                                           for c, w in zip(r, widths)) + " |")
        return "\n".join(lines)

    def ratio(self, figure, row, a, b):
        sa = self.results.get((figure, row, a))
        sb = self.results.get((figure, row, b))
        if not sa or not sb:
            return None
        return median(ratio_sample(sa, sb).ok())

    def targets(self):
        out = []

        def check(name, value, limit, unit="x"):
            if value is None:
                out.append(f"- {name}: n/a")
                return
            status = "met" if value <= limit else "MISSED"
            out.append(f"- {name}: {value:.2f}{unit} (target <= "
                       f"{limit:g}{unit}): {status}")

        kvm = WORKLOADS["c"]["title"]
        check("startup kvmexits, hvt / bpftrace",
              self.ratio("1 startup ms", kvm, HVT, BPFTRACE), 0.1)
        check("startup kvmexits, hvt / C",
              self.ratio("1 startup ms", kvm, HVT, C), 3)
        floor = self.startup_floor()
        if floor:
            out.append(f"  (with LLVM in the process, no lower than the C "
                       f"loader's start plus hvt's compile alone, IR to "
                       f"object: {floor[0]:.2f}x; plus the code generator's "
                       f"load: {floor[1]:.2f}x)")
        check("startup kvmexits, hvt-cached / C",
              self.ratio("1 startup ms", kvm, HVT_CACHED, C), 1.5)
        for figure, row in self.rows:
            if figure == "3 xlated insns":
                check(f"xlated size {row}, hvt / C",
                      self.ratio(figure, row, HVT, C), 1.1)
        for figure, row in self.rows:
            if figure == "2 ns per event":
                check(f"per-event {row}, hvt / C",
                      self.ratio(figure, row, HVT, C), 1.05)
        for contender in (HVT, HVT_CACHED):
            check(f"peak RSS kvmexits, {contender} / bpftrace",
                  self.ratio("4 peak RSS MiB", kvm, contender, BPFTRACE),
                  1 / 3)
        return "\n".join(out)

    def machine(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        hvt_version = subprocess.run([self.hvt, "--version"],
                                     capture_output=True,
                                     text=True).stdout.strip()
        bt = "none"
        if self.available.get(BPFTRACE):
            bt = subprocess.run([self.args.bpftrace, "--version"],
                                capture_output=True,
                                text=True).stdout.strip()
        return (f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), kernel "
                f"{platform.release()}, {hvt_version}, {bt}, "
                f"{'quick mode (1 run)' if self.quick else f'{self.runs} runs'}"
                f", {time.strftime('%Y-%m-%d %H:%M')}")

    def report(self):
        text = ["hvt benchmark: " + self.machine(), "",
                "Cells: median [min-max] over runs; ratio columns are "
                "medians of run-by-run ratios.", "", self.table(), "",
                "Targets:", self.targets()]
        notes = list(self.notes)
        if self.baseline.ok():
            notes.insert(0, "untraced syscall loop: "
                         f"{fmt_sample(self.baseline)} ns per call")
        if notes:
            text += ["", "Notes:"] + [f"- {n}" for n in notes]
        return "\n".join(text) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="one run of everything, short loops (for ctest)")
    p.add_argument("--runs", type=int, default=5,
                   help="runs per contender (default 5)")
    p.add_argument("--hvt", default=os.environ.get("HVT") or os.path.join(
        SOURCE_DIR, "build-perf", "compiler", "driver", "hvt"))
    p.add_argument("--bpftrace", default="bpftrace")
    p.add_argument("--clang", default="clang-19")
    p.add_argument("--bpftool", default="bpftool")
    p.add_argument("--build-dir", default=os.path.join(
        SOURCE_DIR, "build-perf", "bench"))
    p.add_argument("--figures", default="1,2,5",
                   help="figures to run: 1 (startup, with 3 size and 4 "
                   "memory), 2 (per event), 5 (scale)")
    p.add_argument("--output", help="also write the report to this file")
    args = p.parse_args()

    suite = Suite(args)
    code = 0

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        suite.setup()
        figures = set(args.figures.split(","))
        if "1" in figures:
            suite.figure_startup_memory_size()
            suite.figure_startup_phases()
        if "2" in figures:
            suite.figure_per_event()
        if "5" in figures:
            suite.figure_scale()
            suite.figure_printf()
        report = suite.report()
        print(report, end="")
        if args.output:
            with open(args.output, "w") as f:
                f.write(report)
    except KeyboardInterrupt:
        log("bench: interrupted")
        code = 1
    except subprocess.CalledProcessError as e:
        log(f"bench: {' '.join(map(str, e.cmd))} failed ({e.returncode})")
        code = 1
    finally:
        suite.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
