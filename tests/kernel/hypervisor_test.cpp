// The hypervisor toolkit on this machine: the standard scripts, the
// one-liners of docs/hypervisors.md (read from the guide itself, so the
// guide and this test cannot drift), the shipped tracepoint formats and
// symbolic() on a tracepoint that fires. This machine has KVM tracepoints
// that never fire, no Xen tracepoints, no kprobes, and refuses fentry; the
// tests that depend on that skip elsewhere, saying why.
#include "hvt_process.h"
#include "passes/print_fmt.h"
#include "tracefs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <regex>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

const std::string kScripts = std::string(HVT_SOURCE_DIR) + "/scripts/";

class Hypervisor : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }
};

bool exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool has_tracepoint_category(const std::string &category) {
  return !tracefs::root().empty() &&
         exists(tracefs::root() + "/events/" + category);
}

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 1-based line of the first line of `text` that starts with `prefix`.
int line_of(const std::string &text, const std::string &prefix) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.rfind(prefix, 0) == 0)
      return n;
  ADD_FAILURE() << "no line starts with " << prefix;
  return 0;
}

// Splits a shell command line of the guide: words separated by spaces,
// '...' quoting one word (the guide's programs hold no single quotes).
std::vector<std::string> shell_words(const std::string &line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, any = false;
  for (char c : line) {
    if (c == '\'') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any)
        words.push_back(word);
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any)
    words.push_back(word);
  EXPECT_FALSE(quoted) << "unbalanced quote in: " << line;
  return words;
}

// Every `hvt ...` line inside a ```sh block of docs/hypervisors.md.
std::vector<std::string> guide_commands() {
  std::istringstream in(
      read_file(std::string(HVT_SOURCE_DIR) + "/docs/hypervisors.md"));
  std::vector<std::string> commands;
  std::string line;
  bool in_sh = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_sh = !in_sh && line == "```sh";
      continue;
    }
    if (in_sh && line.rfind("hvt ", 0) == 0)
      commands.push_back(line);
  }
  return commands;
}

// ------------------------------------------------------------ compiling

TEST_F(Hypervisor, EveryGuideOneLinerPassesTheVerifier) {
  auto commands = guide_commands();
  // Guards the extraction itself: the guide has this many commands.
  ASSERT_GE(commands.size(), 25u);
  for (const auto &command : commands) {
    SCOPED_TRACE(command);
    auto words = shell_words(command);
    ASSERT_GE(words.size(), 2u);
    std::vector<std::string> args = {"--dry-run"};
    args.insert(args.end(), words.begin() + 1, words.end());
    Finished done = run_hvt(args, 60s);
    EXPECT_EQ(done.exit_code, 0) << done.err;
  }
}

TEST_F(Hypervisor, EveryStandardScriptPassesTheVerifier) {
  for (const char *script :
       {"xenhyper.ht", "cpustolen.ht", "kvmexits.ht", "kvmuserexits.ht"}) {
    SCOPED_TRACE(script);
    Finished done = run_hvt({"--dry-run", kScripts + script}, 60s);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(done.err, "");
  }
}

TEST_F(Hypervisor, StandardScriptsAreFoundByName) {
  // From any directory, as `hvt kvmexits.ht`.
  Finished done = run_hvt({"--dry-run", "kvmexits.ht"}, 60s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
}

// ------------------------------------------------------------ KVM host

void expect_attaches_and_stops(const std::string &script,
                               const std::string &banner) {
  if (!has_tracepoint_category("kvm"))
    GTEST_SKIP() << "the kvm module is not loaded here";
  HvtProcess hvt({kScripts + script});
  ASSERT_TRUE(hvt.wait_for_stdout(banner, 30s)) << "no banner";
  std::this_thread::sleep_for(1s);
  hvt.signal(SIGINT);
  Finished done = hvt.finish(20s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out.rfind("Attaching 4 probes...\n" + banner, 0), 0u)
      << done.out;
  EXPECT_EQ(done.err, "");
}

TEST_F(Hypervisor, KvmExitsAttachesForReal) {
  expect_attaches_and_stops(
      "kvmexits.ht",
      "Tracing KVM exits (exit to next entry, ns)... Hit Ctrl-C to end.\n");
}

TEST_F(Hypervisor, KvmUserExitsAttachesForReal) {
  expect_attaches_and_stops(
      "kvmuserexits.ht",
      "Tracing KVM exits to the VMM in user space... Hit Ctrl-C to end.\n");
}

// ------------------------------------------------------------ Xen guest

TEST_F(Hypervisor, XenhyperOnANonXenKernelSaysSo) {
  if (has_tracepoint_category("xen"))
    GTEST_SKIP() << "this machine is a Xen guest";
  std::string path = kScripts + "xenhyper.ht";
  int line = line_of(read_file(path), "tracepoint:xen:xen_mc_entry");
  Finished done = run_hvt({path}, 60s);
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err,
            path + ":" + std::to_string(line) +
                ":1-27: error: cannot attach tracepoint:xen:xen_mc_entry: "
                "tracepoint category 'xen' does not exist on this kernel\n"
                "tracepoint:xen:xen_mc_entry\n"
                "^~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
                "hint: this kernel is not a Xen guest: tracepoint category "
                "xen does not exist\n");
  EXPECT_EQ(done.out.find("Tracing"), std::string::npos) << done.out;
}

TEST_F(Hypervisor, ShippedFormatsOnlyStandInForMissingTracepoints) {
  if (has_tracepoint_category("xen"))
    GTEST_SKIP() << "this machine is a Xen guest";
  // A Xen tracepoint hvt ships compiles, field types and names included.
  Finished ok = run_hvt({"--dry-run", "-e",
                         "tracepoint:xen:xen_mc_extend_args { "
                         "@[symbolic(args.op), args.res] = sum(args.args); }"},
                        60s);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // One it does not ship is still an error at compile time.
  Finished missing = run_hvt(
      {"--dry-run", "-e", "tracepoint:xen:xen_no_such_event { exit(); }"}, 60s);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("error: tracepoint category 'xen' does not "
                             "exist on this kernel"),
            std::string::npos)
      << missing.err;
}

// ------------------------------------------------------------ stolen time

TEST_F(Hypervisor, CpustolenWithoutKprobesOrTrampolinesSaysWhy) {
  if (exists(tracefs::root() + "/kprobe_events"))
    GTEST_SKIP() << "this kernel has kprobes";
  std::string path = kScripts + "cpustolen.ht";
  std::string text = read_file(path);
  std::string entry = std::to_string(line_of(text, "kprobe:xen_steal_clock"));
  std::string ret = std::to_string(line_of(text, "kretprobe:xen_steal_clock"));
  Finished done = run_hvt({path}, 60s);
  EXPECT_EQ(done.exit_code, 1);
  const std::string no_kprobes_hints =
      "hint: trace a tracepoint instead (hvt -l 'tracepoint:*'), or use a "
      "kernel built with CONFIG_KPROBES=y\n"
      "hint: BPF trampolines (fentry/fexit) are disabled here, e.g. by a "
      "lockdown or LSM policy, or unsupported on this architecture\n";
  EXPECT_EQ(done.err,
            path + ":" + entry +
                ":1-22: error: cannot attach kprobe:xen_steal_clock: kernel "
                "function 'xen_steal_clock' does not exist\n"
                "kprobe:xen_steal_clock, kprobe:kvm_steal_clock\n"
                "^~~~~~~~~~~~~~~~~~~~~~\n"
                "hint: this kernel is not a Xen guest: it has no Xen "
                "functions\n" +
                path + ":" + entry +
                ":25-46: error: cannot attach kprobe:kvm_steal_clock: this "
                "kernel has no kprobe support (built without "
                "CONFIG_KPROBES), and the fentry fallback failed: the kernel "
                "refused to load the fentry program (Operation not "
                "permitted)\n"
                "kprobe:xen_steal_clock, kprobe:kvm_steal_clock\n"
                "                        ^~~~~~~~~~~~~~~~~~~~~~\n" +
                no_kprobes_hints + path + ":" + ret +
                ":1-25: error: cannot attach kretprobe:xen_steal_clock: "
                "kernel function 'xen_steal_clock' does not exist\n"
                "kretprobe:xen_steal_clock, kretprobe:kvm_steal_clock\n"
                "^~~~~~~~~~~~~~~~~~~~~~~~~\n"
                "hint: this kernel is not a Xen guest: it has no Xen "
                "functions\n" +
                path + ":" + ret +
                ":28-52: error: cannot attach kretprobe:kvm_steal_clock: this "
                "kernel has no kprobe support (built without "
                "CONFIG_KPROBES), and the fexit fallback failed: the kernel "
                "refused to load the fexit program (Operation not "
                "permitted)\n"
                "kretprobe:xen_steal_clock, kretprobe:kvm_steal_clock\n"
                "                           ^~~~~~~~~~~~~~~~~~~~~~~~~\n" +
                no_kprobes_hints);
}

// ------------------------------------------------------------ symbolic()

// Loopback UDP (NET_TX/NET_RX softirqs) and short sleeps (timers) for
// `duration`.
void softirq_workload(std::chrono::milliseconds duration) {
  int rx = socket(AF_INET, SOCK_DGRAM, 0);
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(rx, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
  getsockname(rx, reinterpret_cast<sockaddr *>(&addr), &len);
  char buf[64] = "hvt";
  auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 50; ++i) {
      sendto(tx, buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&addr), len);
      recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
    }
    std::this_thread::sleep_for(1ms);
  }
  close(rx);
  close(tx);
}

// Runs `program` until `duration` of softirq_workload() after attaching,
// then stops it as Ctrl-C would.
Finished run_during_softirqs(const std::string &program,
                             std::chrono::milliseconds duration) {
  HvtProcess hvt({"-e", program});
  EXPECT_TRUE(hvt.wait_for_stdout("...\n", 30s));
  softirq_workload(duration);
  hvt.signal(SIGINT);
  return hvt.finish(20s);
}

TEST_F(Hypervisor, SymbolicNamesSoftirqsWithTheKernelsTable) {
  Finished done =
      run_during_softirqs("tracepoint:irq:softirq_entry { "
                          "@[args.vec, symbolic(args.vec)] = count(); "
                          "@by_name[symbolic(args.vec)] = count(); }",
                          1500ms);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out.rfind("Attaching 1 probe...\n", 0), 0u) << done.out;
  // The kernel's names for irq:softirq_entry's vec (include/linux/
  // interrupt.h, as this kernel's print format lists them).
  const char *kernel_names[] = {"HI",      "TIMER",    "NET_TX",  "NET_RX",
                                "BLOCK",   "IRQ_POLL", "TASKLET", "SCHED",
                                "HRTIMER", "RCU"};
  std::regex row(R"(@\[(\d+), ([A-Z_0-9]+)\]: (\d+)\n)");
  std::map<std::string, int> seen;
  for (std::sregex_iterator it(done.out.begin(), done.out.end(), row), end;
       it != end; ++it) {
    int vec = std::stoi((*it)[1]);
    ASSERT_LT(vec, 10) << done.out;
    EXPECT_EQ((*it)[2], kernel_names[vec]) << done.out;
    seen[(*it)[2]] = std::stoi((*it)[3]);
  }
  auto count_of = [&](const char *name) {
    auto it = seen.find(name);
    return it == seen.end() ? 0 : it->second;
  };
  EXPECT_GT(count_of("NET_RX"), 0) << done.out; // the loopback traffic
  EXPECT_GT(count_of("TIMER") + count_of("HRTIMER") + count_of("RCU") +
                count_of("SCHED"),
            0)
      << done.out;
  // Keyed by the name alone, the counts are the same.
  for (const auto &[name, count] : seen)
    EXPECT_NE(done.out.find("@by_name[" + name + "]: " + std::to_string(count) +
                            "\n"),
              std::string::npos)
        << done.out;
}

// What BPF computes for symbolic() (conditions, masks, arithmetic, flags)
// against hvt's user-space evaluator of the same print format, on two busy
// tracepoints with rich formats: sched_switch's prev_state ("S", "D", "R",
// "I"...) and mm_page_alloc's gfp_flags (composite GFP_* names, "none").
TEST_F(Hypervisor, SymbolicInBpfMatchesThePrintFormat) {
  Finished done = run_hvt(
      {"-e", "tracepoint:sched:sched_switch { "
             "@state[args.prev_state, symbolic(args.prev_state)] = count(); } "
             "tracepoint:kmem:mm_page_alloc { "
             "@gfp[args.gfp_flags, symbolic(args.gfp_flags)] = count(); } "
             "interval:ms:1000 { exit(); }"},
      30s);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  struct Case {
    const char *map, *category, *event, *field;
    size_t seen = 0;
  } cases[] = {{"@state", "sched", "sched_switch", "prev_state"},
               {"@gfp", "kmem", "mm_page_alloc", "gfp_flags"}};
  for (auto &c : cases) {
    std::string error;
    auto format = load_tracepoint_format(c.category, c.event, error);
    ASSERT_NE(format, nullptr) << error;
    printfmt::SymbolicFields fields{printfmt::PrintFunctions{}};
    const printfmt::SymbolicSpec *spec =
        fields.resolve(*format, c.field, error);
    ASSERT_NE(spec, nullptr) << error;
    const TracepointField *field = format->find(c.field);
    std::regex row(std::string(c.map) + R"(\[(-?\d+), ([^\]]+)\]: \d+\n)");
    for (std::sregex_iterator it(done.out.begin(), done.out.end(), row), end;
         it != end; ++it) {
      int64_t value = std::stoll((*it)[1]);
      std::vector<uint8_t> record(field->offset + field->size, 0);
      memcpy(record.data() + field->offset, &value, field->size);
      uint64_t encoded =
          printfmt::encode(*spec->root, record.data(), record.size());
      EXPECT_EQ((*it)[2], fields.tables()->render(encoded))
          << c.field << " = " << value;
      ++c.seen;
    }
    EXPECT_GT(c.seen, 0u) << done.out;
  }
}

TEST_F(Hypervisor, SymbolicValuesSurviveVariablesMapsAndPrintf) {
  Finished done = run_hvt(
      {"-e", "tracepoint:irq:softirq_entry /args.vec == 1/ { "
             "$s = symbolic(args.vec); @last = $s; @tuple = ($s, args.vec); "
             "printf(\"%s\\n\", $s); exit(); }"},
      30s);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  // Several CPUs may print before exit() takes effect.
  EXPECT_EQ(done.out.rfind("Attaching 1 probe...\nTIMER\n", 0), 0u) << done.out;
  EXPECT_NE(done.out.find("\n\n\n@last: TIMER\n@tuple: (TIMER, 1)\n"),
            std::string::npos)
      << done.out;
}

// One map fed by two tables (softirq vectors, task states): its keys are
// encoded words, and the softirq probe, whose values alone would be stored
// as read, encodes its table when storing. Every key prints as a name.
TEST_F(Hypervisor, SymbolicValuesOfTwoTablesShareAMap) {
  Finished done = run_during_softirqs(
      "tracepoint:irq:softirq_entry { @n[symbolic(args.vec)] = count(); } "
      "tracepoint:sched:sched_switch { "
      "@n[symbolic(args.prev_state)] = count(); }",
      1000ms);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  std::regex row(R"(@n\[([^\]]+)\]: \d+\n)");
  std::set<std::string> keys;
  for (std::sregex_iterator it(done.out.begin(), done.out.end(), row), end;
       it != end; ++it)
    keys.insert((*it)[1]);
  EXPECT_TRUE(keys.count("NET_RX")) << done.out; // the loopback traffic
  EXPECT_TRUE(keys.count("S") || keys.count("R") || keys.count("D"))
      << done.out; // a sleeping, preempted or waiting task switched out
  for (const auto &key : keys)
    EXPECT_FALSE(std::all_of(key.begin(), key.end(), ::isdigit))
        << key << " printed as a number:\n"
        << done.out;
}

TEST_F(Hypervisor, SymbolicMisuseIsExplained) {
  Finished done = run_hvt(
      {"--dry-run", "-e",
       "tracepoint:kvm:kvm_exit { @[symbolic(args.vcpu_id)] = count(); }"},
      60s);
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err,
            "stdin:1:38-49: error: the print format of tracepoint "
            "kvm:kvm_exit has no names for the values of field 'vcpu_id'\n"
            "tracepoint:kvm:kvm_exit { @[symbolic(args.vcpu_id)] = count(); }\n"
            "                                     ^~~~~~~~~~~~\n"
            "hint: fields it names: exit_reason\n");
  done = run_hvt(
      {"--dry-run", "-e", "kprobe:vfs_read { @[symbolic(arg0)] = count(); }"},
      60s);
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(
      done.err,
      "stdin:1:30-33: error: symbolic() needs a tracepoint field\n"
      "kprobe:vfs_read { @[symbolic(arg0)] = count(); }\n"
      "                             ^~~~\n"
      "hint: e.g. symbolic(args.exit_reason) in tracepoint:kvm:kvm_exit\n");
}

// Every print format of this kernel parses, and every field one names
// resolves or says why not: the parser copes with what kernels really
// write (casts, enum names, GNU extensions, nested tables).
TEST_F(Hypervisor, EveryPrintFormatOfThisKernelParses) {
  ASSERT_FALSE(tracefs::root().empty());
  size_t formats = 0, named = 0;
  for (const auto &category : tracefs::categories())
    for (const auto &event : tracefs::events(category)) {
      std::string text = read_file(tracefs::format_path(category, event));
      auto format = parse_tracepoint_format(text);
      if (!format)
        continue; // ftrace's own events have no fields
      format->category = category;
      std::string error;
      auto fmt = printfmt::parse_print_fmt(format->print_fmt, error);
      EXPECT_TRUE(fmt) << category << ":" << event << ": " << error;
      ++formats;
      named += printfmt::symbolic_fields(*format, {}).size();
    }
  EXPECT_GT(formats, 500u);
  EXPECT_GT(named, 50u); // irq, kvm, kmem, sched... name plenty of fields
}

} // namespace
} // namespace hvt::test
