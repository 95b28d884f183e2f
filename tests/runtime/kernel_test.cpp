// The runtime against the real kernel, without the hvt compiler: BPF
// programs are either raw instructions or the hand-written objects in bpf/
// (see bpf/runtime_test.bpf.c), described by hand-made metadata. Needs root;
// skipped otherwise.
#include "attach.h"
#include "runtime.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <filesystem>
#include <sstream>
#include <thread>

namespace {
#include "bpf/runtime_test.elf.inc"
#include "bpf/verifier_reject.elf.inc"
} // namespace

// The uprobe test's target. extern "C" and noinline so libbpf finds it by
// name in the test binary's symbol table.
extern "C" __attribute__((noinline, used)) int hvt_runtime_test_target(int x) {
  asm volatile("" ::: "memory");
  return x + 1;
}

namespace hvt {
namespace {

using namespace std::chrono_literals;

bool can_trace() { return geteuid() == 0; }

#define REQUIRE_ROOT()                                                         \
  do {                                                                         \
    if (!can_trace())                                                          \
      GTEST_SKIP() << "needs root to load BPF programs";                       \
  } while (0)

SourceRange at_line(uint32_t line) {
  SourceRange r;
  r.begin = {line, 1};
  r.end = {line, 10};
  return r;
}

ProbeDesc probe(ProbeKind kind, std::string program, std::string display,
                std::string target = "", uint32_t line = 1) {
  ProbeDesc p;
  p.kind = kind;
  p.program_name = std::move(program);
  p.display = std::move(display);
  p.target = std::move(target);
  p.range = at_line(line);
  return p;
}

// The maps of bpf/runtime_test.bpf.c, in its MAP_* index order.
MapDesc calls_map() {
  MapDesc m;
  m.name = "@calls";
  m.elf_name = "map_calls";
  m.agg = AggKind::Count;
  m.value = Type::uint64();
  m.storage = MapStorage::PercpuHash;
  m.max_entries = 16;
  return m;
}

MapDesc hist_map() {
  MapDesc m;
  m.name = "@h";
  m.elf_name = "map_h";
  m.agg = AggKind::Hist;
  m.value = Type::uint64();
  m.storage = MapStorage::PercpuHash;
  m.max_entries = 128;
  return m;
}

MapDesc x_map() {
  MapDesc m;
  m.name = "@x";
  m.elf_name = "map_x";
  m.value = Type::int64();
  m.max_entries = 16;
  return m;
}

// Each ProbeDesc is a probe block of its own, as if written
// `a { } b { }`.
CompiledProgram test_program(std::vector<ProbeDesc> probes) {
  CompiledProgram p;
  p.elf.assign(runtime_test_elf, runtime_test_elf + runtime_test_elf_len);
  for (size_t i = 0; i < probes.size(); ++i)
    probes[i].probe_index = i;
  p.probes = std::move(probes);
  p.maps = {calls_map(), hist_map(), x_map()};
  PrintfDesc hello;
  hello.format = "hello %d %s\n";
  hello.args = Type::tuple({Type::int64(), Type::string(8)});
  PrintfDesc bye;
  bye.format = "bye\n";
  p.printfs = {hello, bye};
  p.ringbuf_size = 1 << 16;
  return p;
}

struct Result {
  int rc = -1;
  std::string out;
  Diagnostics diags;
};

Result run(const CompiledProgram &program, RunOptions options = {}) {
  Result r;
  std::ostringstream out, err;
  options.out = &out;
  options.err = &err;
  r.rc = run_program(program, options, r.diags);
  r.out = out.str();
  return r;
}

// Runs `program` while another thread calls `poke` every few milliseconds.
Result run_poking(const CompiledProgram &program, void (*poke)()) {
  std::atomic<bool> done{false};
  std::thread poker([&] {
    while (!done) {
      poke();
      std::this_thread::sleep_for(5ms);
    }
  });
  Result r = run(program);
  done = true;
  poker.join();
  return r;
}

void call_getpid() { syscall(SYS_getpid); }

void call_target() {
  static int (*volatile target)(int) = hvt_runtime_test_target;
  target(1);
}

std::string messages(const Diagnostics &diags) {
  std::string out;
  for (const auto &d : diags.all()) {
    out += d.message + "\n";
    for (const auto &h : d.hints)
      out += "  hint: " + h + "\n";
  }
  return out;
}

bool has_hint(const Diagnostic &d, const std::string &text) {
  for (const auto &h : d.hints)
    if (h == text)
      return true;
  return false;
}

std::string bar(int n) {
  return std::string(n, '@') + std::string(52 - n, ' ');
}

// The maps after three gated events: one in [1], two in [2, 4).
const std::string three_events = "@calls: 3\n"
                                 "@h: \n"
                                 "[1]                    1 |" +
                                 bar(26) +
                                 "|\n"
                                 "[2, 4)                 2 |" +
                                 bar(52) + "|\n\n";

// ---------------------------------------------------------------------------
// Building blocks, with raw instructions

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
              int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

TEST(RunBeginEnd, RunsARawTracepointProgramOnce) {
  REQUIRE_ROOT();
  int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "hvt_test", 4, 8, 1, nullptr);
  ASSERT_GE(map, 0) << strerror(errno);
  // *(u32 *)(fp - 4) = 0; *(u64 *)(fp - 16) = 42;
  // bpf_map_update_elem(map, fp - 4, fp - 16, BPF_ANY); return 0;
  std::vector<bpf_insn> prog = {
      insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
      insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16, 42),
      insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map),
      insn(0, 0, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -16),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "hvt_begin", "GPL",
                         prog.data(), prog.size(), nullptr);
  ASSERT_GE(fd, 0) << strerror(errno);

  EXPECT_EQ(run_begin_end(fd), 0);
  uint32_t key = 0;
  uint64_t value = 0;
  ASSERT_EQ(bpf_map_lookup_elem(map, &key, &value), 0);
  EXPECT_EQ(value, 42u);
  close(fd);
  close(map);
}

TEST(RunBeginEnd, ReportsErrors) { EXPECT_EQ(run_begin_end(-1), -EBADF); }

TEST(AttachProbe, TracepointCountsAndDetaches) {
  REQUIRE_ROOT();
  bpf_object *obj =
      bpf_object__open_mem(runtime_test_elf, runtime_test_elf_len, nullptr);
  ASSERT_NE(obj, nullptr);
  // Count this process's calls only (ctest runs tests in parallel).
  uint32_t tgid = getpid();
  ASSERT_EQ(bpf_map__set_initial_value(
                bpf_object__find_map_by_name(obj, ".bss"), &tgid, 4),
            0);
  ASSERT_EQ(bpf_object__load(obj), 0);
  bpf_program *prog = bpf_object__find_program_by_name(obj, "on_getpid");
  int calls = bpf_map__fd(bpf_object__find_map_by_name(obj, "map_calls"));
  ASSERT_NE(prog, nullptr);
  auto total = [&] {
    std::vector<uint64_t> percpu(libbpf_num_possible_cpus());
    uint64_t key = 0, sum = 0;
    if (bpf_map_lookup_elem(calls, &key, percpu.data()) == 0)
      for (uint64_t v : percpu)
        sum += v;
    return sum;
  };
  {
    Attachments attachments;
    AttachError err;
    ASSERT_TRUE(attach_probe(probe(ProbeKind::Tracepoint, "on_getpid",
                                   "tracepoint:syscalls:sys_enter_getpid",
                                   "syscalls:sys_enter_getpid"),
                             prog, attachments, err))
        << err.reason;
    EXPECT_EQ(attachments.size(), 1u);
    call_getpid();
    call_getpid();
    EXPECT_EQ(total(), 2u);
  }
  call_getpid(); // detached: not counted
  EXPECT_EQ(total(), 2u);
  bpf_object__close(obj);
}

TEST(AttachProbe, CpuLists) {
  EXPECT_EQ(parse_cpu_list("0-3,6"), (std::vector<int>{0, 1, 2, 3, 6}));
  EXPECT_EQ(parse_cpu_list("0\n"), (std::vector<int>{0}));
  EXPECT_EQ(parse_cpu_list(""), (std::vector<int>{}));
  EXPECT_FALSE(online_cpus().empty());
}

// ---------------------------------------------------------------------------
// Whole runs

TEST(RunProgram, BeginTracepointEnd) {
  REQUIRE_ROOT();
  CompiledProgram p =
      test_program({probe(ProbeKind::Begin, "begin_hello", "BEGIN"),
                    probe(ProbeKind::Tracepoint, "on_getpid",
                          "tracepoint:syscalls:sys_enter_getpid",
                          "syscalls:sys_enter_getpid"),
                    probe(ProbeKind::End, "end_bye", "END")});
  Result r = run_poking(p, call_getpid);
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 3 probes...\n"
                   "hello 42 world\n"
                   "@x: 7\n"
                   "bye\n"
                   "\n\n" +
                       three_events + "@x: 7\n");
}

TEST(RunProgram, QuietAndJson) {
  REQUIRE_ROOT();
  CompiledProgram p =
      test_program({probe(ProbeKind::Begin, "begin_exit", "BEGIN")});
  p.maps.clear();
  RunOptions quiet;
  quiet.quiet = true;
  EXPECT_EQ(run(p, quiet).out, "\n\n");
  RunOptions json;
  json.format = OutputFormat::Json;
  EXPECT_EQ(run(p, json).out,
            "{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n\n\n");
}

TEST(RunProgram, NothingIsShownAfterExit) {
  REQUIRE_ROOT();
  // BEGIN { exit(); printf("bye\n"); } END { printf("bye\n"); }
  CompiledProgram p =
      test_program({probe(ProbeKind::Begin, "begin_exit", "BEGIN"),
                    probe(ProbeKind::End, "end_bye", "END")});
  p.maps.clear();
  Result r = run(p);
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 2 probes...\nbye\n\n\n");
}

TEST(RunProgram, ZeroAndClearFromEnd) {
  REQUIRE_ROOT();
  // tracepoint { @calls = count(); @h = hist(..) } END { zero(@calls);
  // clear(@h); }  -- @calls prints 0, @h is gone (a blank line).
  CompiledProgram p =
      test_program({probe(ProbeKind::Tracepoint, "on_getpid",
                          "tracepoint:syscalls:sys_enter_getpid",
                          "syscalls:sys_enter_getpid"),
                    probe(ProbeKind::End, "end_reset", "END")});
  p.maps.pop_back(); // no @x
  Result r = run_poking(p, call_getpid);
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 2 probes...\n\n\n@calls: 0\n\n");
}

TEST(RunProgram, Interval) {
  REQUIRE_ROOT();
  ProbeDesc tick = probe(ProbeKind::Interval, "on_tick", "interval:ms:10");
  tick.period = 10'000'000;
  Result r = run(test_program({tick}));
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 1 probe...\n\n\n" + three_events + "\n");
}

TEST(RunProgram, ProfileAtAFrequency) {
  REQUIRE_ROOT();
  ProbeDesc tick = probe(ProbeKind::Profile, "on_tick", "profile:hz:99");
  tick.frequency = 99;
  Result r = run(test_program({tick}));
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 1 probe...\n\n\n" + three_events + "\n");
}

TEST(RunProgram, SoftwareEvent) {
  REQUIRE_ROOT();
  ProbeDesc tick = probe(ProbeKind::Software, "on_tick",
                         "software:cpu-clock:1000000", "cpu-clock");
  tick.period = 1'000'000;
  Result r = run(test_program({tick}));
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 1 probe...\n\n\n" + three_events + "\n");
}

TEST(RunProgram, Uprobe) {
  REQUIRE_ROOT();
  char self[PATH_MAX] = {};
  ASSERT_GT(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  ProbeDesc up =
      probe(ProbeKind::Uprobe, "on_uprobe",
            std::string("uprobe:") + self + ":hvt_runtime_test_target", self);
  up.function = "hvt_runtime_test_target";
  Result r = run_poking(test_program({up}), call_target);
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "Attaching 1 probe...\n\n\n" + three_events + "\n");
}

// Sends `sig` to the process once run_program() has installed its handler.
void signal_when_handled(int sig, std::atomic<bool> &done) {
  while (!done) {
    struct sigaction current = {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) {
      std::this_thread::sleep_for(200ms);
      kill(getpid(), sig);
      return;
    }
    std::this_thread::sleep_for(5ms);
  }
}

void expect_stops_on(int sig) {
  ProbeDesc tick = probe(ProbeKind::Interval, "on_tick", "interval:s:100");
  tick.period = 100'000'000'000; // never fires during the test
  CompiledProgram p =
      test_program({tick, probe(ProbeKind::End, "end_bye", "END")});
  std::atomic<bool> done{false};
  std::thread killer(signal_when_handled, sig, std::ref(done));
  Result r = run(p);
  done = true;
  killer.join();
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  // Nothing fired: @calls, a key-less count(), prints 0 as in bpftrace 0.17
  // (`interval:s:100 { @calls = count(); } END { printf("bye\n"); }`);
  // the empty @h and @x print blank lines.
  EXPECT_EQ(r.out, "Attaching 2 probes...\nbye\n\n\n@calls: 0\n\n\n");
  // The handler is gone again.
  struct sigaction current = {};
  sigaction(sig, nullptr, &current);
  EXPECT_EQ(current.sa_handler, SIG_DFL);
}

TEST(RunProgram, StopsOnSigint) {
  REQUIRE_ROOT();
  expect_stops_on(SIGINT);
}

TEST(RunProgram, StopsOnSigterm) {
  REQUIRE_ROOT();
  expect_stops_on(SIGTERM);
}

size_t open_fds() {
  size_t n = 0;
  for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd"))
    n += entry.exists() ? 1 : 0;
  return n;
}

TEST(RunProgram, ClosesEverything) {
  REQUIRE_ROOT();
  ProbeDesc tick = probe(ProbeKind::Profile, "on_tick", "profile:hz:99");
  tick.frequency = 99;
  CompiledProgram p =
      test_program({probe(ProbeKind::Begin, "begin_hello", "BEGIN"), tick,
                    probe(ProbeKind::Tracepoint, "on_getpid",
                          "tracepoint:syscalls:sys_enter_getpid",
                          "syscalls:sys_enter_getpid"),
                    probe(ProbeKind::End, "end_bye", "END")});
  ASSERT_EQ(run(p).rc, 0); // warm up libbpf's one-time probing
  size_t before = open_fds();
  Result r = run(p);
  ASSERT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(open_fds(), before);
  // Also after a failed attach.
  p.probes[2].target = "xen:xen_mc_entry";
  EXPECT_EQ(run(p).rc, 1);
  EXPECT_EQ(open_fds(), before);
}

TEST(RunProgram, DryRunPrintsNothing) {
  REQUIRE_ROOT();
  CompiledProgram p =
      test_program({probe(ProbeKind::Begin, "begin_hello", "BEGIN"),
                    probe(ProbeKind::Tracepoint, "on_getpid",
                          "tracepoint:syscalls:sys_enter_getpid",
                          "syscalls:sys_enter_getpid")});
  RunOptions options;
  options.dry_run = true;
  Result r = run(p, options);
  EXPECT_EQ(r.rc, 0) << messages(r.diags);
  EXPECT_EQ(r.out, "");
}

// ---------------------------------------------------------------------------
// Errors become diagnostics at the probe

TEST(RunProgramErrors, MissingTracepointCategory) {
  REQUIRE_ROOT();
  CompiledProgram p = test_program(
      {probe(ProbeKind::Begin, "begin_hello", "BEGIN"),
       probe(ProbeKind::Tracepoint, "on_getpid", "tracepoint:xen:xen_mc_entry",
             "xen:xen_mc_entry", 3)});
  Result r = run(p);
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u) << messages(r.diags);
  const Diagnostic &d = r.diags.all()[0];
  EXPECT_EQ(d.message, "cannot attach tracepoint:xen:xen_mc_entry: "
                       "tracepoint category 'xen' does not exist on this "
                       "kernel");
  EXPECT_TRUE(has_hint(d, "this kernel is not a Xen guest: tracepoint "
                          "category xen does not exist"))
      << messages(r.diags);
  EXPECT_EQ(d.range.begin.line, 3u);
  // "Attaching" is printed only once every probe is attached, and nothing
  // the program sent is shown.
  EXPECT_EQ(r.out, "");
}

TEST(RunProgramErrors, MissingTracepointSuggestsAName) {
  REQUIRE_ROOT();
  CompiledProgram p = test_program({probe(ProbeKind::Tracepoint, "on_getpid",
                                          "tracepoint:syscalls:sys_enter_getpi",
                                          "syscalls:sys_enter_getpi")});
  Result r = run(p);
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  const Diagnostic &d = r.diags.all()[0];
  EXPECT_EQ(d.message,
            "cannot attach tracepoint:syscalls:sys_enter_getpi: "
            "tracepoint 'syscalls:sys_enter_getpi' does not exist on this "
            "kernel");
  EXPECT_TRUE(
      has_hint(d, "did you mean 'tracepoint:syscalls:sys_enter_getpid'?"))
      << messages(r.diags);
}

TEST(RunProgramErrors, KprobeWithoutKernelSupport) {
  REQUIRE_ROOT();
  struct stat st;
  if (stat("/sys/bus/event_source/devices/kprobe", &st) == 0 ||
      stat("/sys/kernel/tracing/kprobe_events", &st) == 0)
    GTEST_SKIP() << "this kernel has kprobes";
  ProbeDesc kprobe =
      probe(ProbeKind::Kprobe, "on_kprobe", "kprobe:do_nanosleep");
  kprobe.function = "do_nanosleep";
  Result r = run(test_program({kprobe}));
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  EXPECT_EQ(r.diags.all()[0].message,
            "cannot attach kprobe:do_nanosleep: this kernel has no kprobe "
            "support (built without CONFIG_KPROBES)");
}

TEST(RunProgramErrors, UprobeOnAMissingFunction) {
  REQUIRE_ROOT();
  char self[PATH_MAX] = {};
  ASSERT_GT(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  ProbeDesc up = probe(ProbeKind::Uprobe, "on_uprobe", "uprobe:x:nope", self);
  up.function = "hvt_no_such_function";
  Result r = run(test_program({up}));
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  EXPECT_EQ(r.diags.all()[0].message,
            std::string("cannot attach uprobe:x:nope: function "
                        "'hvt_no_such_function' was not found in '") +
                self + "'");
}

TEST(RunProgramErrors, UnknownSoftwareEvent) {
  REQUIRE_ROOT();
  ProbeDesc sw =
      probe(ProbeKind::Software, "on_tick", "software:cpu-clok:1", "cpu-clok");
  Result r = run(test_program({sw}));
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  const Diagnostic &d = r.diags.all()[0];
  EXPECT_EQ(d.message, "cannot attach software:cpu-clok:1: unknown "
                       "software event 'cpu-clok'");
  EXPECT_TRUE(has_hint(d, "did you mean 'cpu-clock'?")) << messages(r.diags);
}

TEST(RunProgramErrors, VerifierRejection) {
  REQUIRE_ROOT();
  CompiledProgram p;
  p.elf.assign(verifier_reject_elf,
               verifier_reject_elf + verifier_reject_elf_len);
  p.probes = {probe(ProbeKind::Begin, "begin_bad", "BEGIN", "", 7)};
  Result r = run(p);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(r.diags.all().size(), 1u);
  const Diagnostic &d = r.diags.all()[0];
  EXPECT_EQ(d.range.begin.line, 7u);
  EXPECT_EQ(d.message.rfind("BPF verifier rejected probe 'BEGIN': ", 0), 0u)
      << d.message;
  EXPECT_NE(d.message.find("invalid bpf_context access"), std::string::npos)
      << d.message;
  EXPECT_TRUE(has_hint(d, "run with -d verifier to see the full verifier log"))
      << messages(r.diags);
}

TEST(RunProgramErrors, ProgramMissingFromTheObject) {
  REQUIRE_ROOT();
  Result r = run(test_program({probe(ProbeKind::Begin, "nope", "BEGIN")}));
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  EXPECT_EQ(r.diags.all()[0].message,
            "internal error: the BPF object has no program 'nope' for probe "
            "'BEGIN'");
}

TEST(RunProgramErrors, NotAnElfObject) {
  CompiledProgram p;
  p.elf = {1, 2, 3, 4};
  Result r = run(p);
  EXPECT_EQ(r.rc, 1);
  ASSERT_EQ(r.diags.all().size(), 1u);
  EXPECT_EQ(r.diags.all()[0].message.rfind("cannot open the BPF object: ", 0),
            0u);
}

// ---------------------------------------------------------------------------

TEST(VerifierLog, Summary) {
  VerifierSummary s = summarize_verifier_log(
      "func#0 @0\n"
      "0: R1=ctx() R10=fp0\n"
      "0: (79) r0 = *(u64 *)(r1 +4096)\n"
      "invalid bpf_context access off=4096 size=8\n"
      "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states "
      "0 peak_states 0 mark_read 0\n");
  EXPECT_EQ(s.error, "invalid bpf_context access off=4096 size=8");
  EXPECT_EQ(s.instruction, "0: (79) r0 = *(u64 *)(r1 +4096)");
  EXPECT_EQ(summarize_verifier_log("R0 !read_ok\n\n").error, "R0 !read_ok");
  EXPECT_EQ(summarize_verifier_log("R0 !read_ok\n").instruction, "");
  EXPECT_EQ(summarize_verifier_log("").error, "no reason given");
}

} // namespace
} // namespace hvt
