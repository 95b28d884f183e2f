// Kernel tests of every probe kind this machine can fire, the kprobe <->
// fentry fallback and its messages, the missing-probe policy, -p and -c,
// and clean exits (no leaks after SIGKILL, SIGPIPE, a second SIGINT, no CPU
// while idle). The real hvt binary, real probes, workloads the test owns.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

const std::string kTarget = HVT_UPROBE_TARGET;

class Probes : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }
};

bool has_kprobes() {
  struct stat st;
  return stat("/sys/bus/event_source/devices/kprobe", &st) == 0;
}

// Calls getppid() / getpgid() `n` times from a child named `name`.
void syscalls_as(const char *name, int n) {
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, name);
    for (int i = 0; i < n; ++i) {
      syscall(SYS_getppid);
      syscall(SYS_getpgid, 0);
    }
    _exit(0);
  }
  waitpid(child, nullptr, 0);
}

size_t count_of(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// ---------------------------------------------------------------------------
// Probe kinds that fire here

// Runs `body` on getppid() and getpgid() calls by a child named `comm`
// (the wildcards match one each), which makes 7 of each, for 1.5 s.
Finished syscall_wildcard(const std::string &comm, const std::string &body) {
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_getpp*,"
                        "tracepoint:syscalls:sys_enter_getpgi* "
                        "/comm == \"" +
                            comm + "\"/ " + body +
                            " interval:ms:1500 { exit(); }"});
  if (!hvt.wait_for_stdout("Attaching 3 probes...\n", 20s)) {
    Finished failed = hvt.finish(1s);
    ADD_FAILURE() << "not attached: " << failed.err;
    return failed;
  }
  syscalls_as(comm.c_str(), 7);
  return hvt.finish(20s);
}

TEST_F(Probes, TracepointWildcardNamesEachProbe) {
  Finished done = syscall_wildcard("hvt_wild", "{ @[probe] = count(); }");
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("\n@[tracepoint:syscalls:sys_enter_getpgid]: 7\n"),
            std::string::npos)
      << done.out;
  EXPECT_NE(done.out.find("@[tracepoint:syscalls:sys_enter_getppid]: 7\n"),
            std::string::npos)
      << done.out;
}

// The same wildcard without `probe`: its matches share one program
// (codegen), attached at each of them.
TEST_F(Probes, ASharedProgramFiresAtEachOfItsAttachPoints) {
  Finished done = syscall_wildcard("hvt_shared", "{ @calls = count(); }");
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("\n@calls: 14\n"), std::string::npos) << done.out;
}

TEST_F(Probes, UprobeArgsAndUretprobeRetvalWithCommand) {
  // -c holds the target until both probes are attached: all three calls of
  // hvt_target_add(40, 2) are seen; hvt exits when the target does.
  Finished done = run_hvt(
      {"-c", kTarget, "-e",
       "uprobe:" + kTarget +
           ":hvt_target_add { printf(\"arg %d %d\\n\", "
           "arg0, arg1); } uretprobe:" +
           kTarget + ":hvt_target_add { printf(\"ret %d\\n\", retval); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(count_of(done.out, "arg 40 2\n"), 3u) << done.out;
  EXPECT_EQ(count_of(done.out, "ret 42\n"), 3u) << done.out;
  EXPECT_EQ(done.out.rfind("Attaching 2 probes...\n", 0), 0u) << done.out;
  EXPECT_EQ(done.err, "");
}

TEST_F(Probes, UprobeWildcardExpandsAgainstTheSymbolTable) {
  Finished done =
      run_hvt({"-c", kTarget, "-e",
               "uprobe:" + kTarget + ":hvt_target_* { @[probe] = count(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("@[uprobe:" + kTarget + ":hvt_target_other]: 1\n"),
            std::string::npos)
      << done.out;
  EXPECT_NE(done.out.find("@[uprobe:" + kTarget + ":hvt_target_add]: 3\n"),
            std::string::npos)
      << done.out;
}

// A script naming a FIFO or a device must fail quickly, never block in
// open() or stream /dev/zero forever.
TEST_F(Probes, UprobeOnAFifoOrDeviceFailsWithoutHanging) {
  std::string fifo = "/tmp/hvt_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Finished on_fifo = run_hvt({"-e", "uprobe:" + fifo + ":foo { exit(); }"}, 10s);
  unlink(fifo.c_str());
  EXPECT_EQ(on_fifo.exit_code, 1) << on_fifo.err;
  EXPECT_NE(on_fifo.err.find("'" + fifo + "' is not an ELF binary"), std::string::npos)
      << on_fifo.err;
  Finished on_device = run_hvt({"-e", "uprobe:/dev/zero:foo* { exit(); }"}, 10s);
  EXPECT_EQ(on_device.exit_code, 1) << on_device.err;
  EXPECT_NE(on_device.err.find("'/dev/zero' is not a regular file"), std::string::npos)
      << on_device.err;
}

TEST_F(Probes, UprobeOnALibraryByName) {
  // "libc" is found like ldconfig finds it; probe names the resolved path.
  Finished done = run_hvt(
      {"-c", kTarget + " wait", "-e",
       "uprobe:libc:fgets /pid == cpid/ { printf(\"%s\\n\", probe); exit(); }"},
      30s, "1\n");
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_TRUE(std::regex_search(
      done.out, std::regex(R"(\nuprobe:/[^:]*/libc\.so\.6:fgets\n)")))
      << done.out;
}

TEST_F(Probes, CpidIsTheCommandsPid) {
  Finished done = run_hvt({"-c", kTarget, "-e",
                           "uprobe:" + kTarget +
                               ":hvt_target_other { printf(\"%d %d\\n\", pid "
                               "== cpid, cpid > 1); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n1 1\n\n\n");
}

TEST_F(Probes, CommandThatCannotRun) {
  Finished done = run_hvt(
      {"-c", "/nonexistent/hvt-cmd", "-e", "BEGIN { printf(\"x\\n\"); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_NE(done.err.find("error: cannot run the -c command: No such file or "
                          "directory"),
            std::string::npos)
      << done.err;
}

TEST_F(Probes, ProfileSamplesEveryCpu) {
  // The cpu-clock timer of an idle CPU hardly fires: keep every CPU busy
  // (each spinner pinned to one) while hvt samples.
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  for (long cpu = 0; cpu < cpus; ++cpu)
    spinners.emplace_back([&stop, cpu] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof(set), &set);
      while (!stop)
        ;
    });
  Finished done = run_hvt({"-e", "profile:hz:199 { @[cpu] = count(); }"
                                 " interval:ms:1000 { exit(); }"});
  stop = true;
  for (auto &t : spinners)
    t.join();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  std::regex line(R"(@\[(\d+)\]: (\d+)\n)");
  std::set<int> seen;
  for (std::sregex_iterator it(done.out.begin(), done.out.end(), line), end;
       it != end; ++it) {
    seen.insert(std::stoi((*it)[1]));
    EXPECT_GE(std::stoi((*it)[2]), 50) << done.out; // 199 Hz for 1 s
  }
  EXPECT_EQ(static_cast<long>(seen.size()), cpus) << done.out;
}

TEST_F(Probes, IntervalFiresAtItsPeriod) {
  Finished done = run_hvt({"-e", "interval:ms:100 { printf(\"tick\\n\"); }"
                                 " interval:ms:1050 { exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  size_t ticks = count_of(done.out, "tick\n");
  EXPECT_GE(ticks, 8u) << done.out;
  EXPECT_LE(ticks, 11u) << done.out;
}

TEST_F(Probes, SoftwareEvents) {
  Finished done =
      run_hvt({"-e", "software:cpu-clock:100000 { @clock = count(); }"
                     " software:page-faults:1 { @faults = count(); }"
                     " interval:ms:500 { exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_TRUE(std::regex_search(done.out, std::regex(R"(@clock: [1-9]\d*\n)")))
      << done.out;
  EXPECT_TRUE(std::regex_search(done.out, std::regex(R"(@faults: \d+\n)")))
      << done.out;
}

TEST_F(Probes, BeginBeforeEveryProbeAndEndLast) {
  Finished done = run_hvt(
      {"-e",
       "END { printf(\"end\\n\"); } interval:ms:10 { printf(\"tick\\n\"); }"
       " BEGIN { printf(\"begin\\n\"); } interval:ms:200 { exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out.rfind("Attaching 4 probes...\nbegin\ntick\n", 0), 0u)
      << done.out;
  size_t end = done.out.find("end\n");
  ASSERT_NE(end, std::string::npos) << done.out;
  EXPECT_EQ(done.out.substr(end), "end\n\n\n");
}

// ---------------------------------------------------------------------------
// -p PID

TEST_F(Probes, PidAttachesUprobesAndFiltersOtherProbes) {
  int to_target[2]; // close-on-exec: only the target may hold its stdin
  ASSERT_EQ(pipe2(to_target, O_CLOEXEC), 0);
  pid_t target = fork();
  if (target == 0) {
    dup2(to_target[0], 0);
    close(to_target[1]);
    execl(kTarget.c_str(), kTarget.c_str(), "wait", nullptr);
    _exit(127);
  }
  close(to_target[0]);
  HvtProcess hvt(
      {"-p", std::to_string(target), "-e",
       "tracepoint:syscalls:sys_enter_getppid { printf(\"tp %d\\n\", "
       "pid); } uprobe:" +
           kTarget + ":hvt_target_add { printf(\"add %d\\n\", arg0); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 2 probes...\n", 20s))
      << hvt.finish(1s).err;
  // Neither this process's getppid() nor another copy of the target shows.
  syscalls_as("hvt_other", 20);
  {
    pid_t copy = fork();
    if (copy == 0) {
      execl(kTarget.c_str(), kTarget.c_str(), nullptr);
      _exit(127);
    }
    waitpid(copy, nullptr, 0);
  }
  ASSERT_EQ(write(to_target[1], "5\n", 2), 2);
  std::this_thread::sleep_for(300ms);
  close(to_target[1]); // the target exits, and so does hvt
  Finished done = hvt.finish(20s);
  waitpid(target, nullptr, 0);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 2 probes...\nadd 5\ntp " +
                          std::to_string(target) + "\n\n\n")
      << done.err;
}

TEST_F(Probes, PidMustExist) {
  Finished done = run_hvt({"-p", "999999999", "-e", "BEGIN { exit(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err, "hvt: no process with PID 999999999 (-p)\n");
}

// ---------------------------------------------------------------------------
// kprobe/kretprobe/fentry/fexit: load here, attach nowhere (no kprobes,
// trampolines refused), and say why in one message.

TEST_F(Probes, KernelFunctionProbesPassTheVerifier) {
  for (const char *program :
       {"kprobe:vfs_read { @[comm] = count(); }",
        "kretprobe:vfs_read { @ = hist(retval); }",
        "kprobe:vfs_read+0 { @ = count(); }",
        "fentry:vfs_read { @ = count(); }", "fexit:vfs_read { @ = count(); }",
        "kfunc:vfs_read, kretfunc:vfs_write { @[probe] = count(); }"}) {
    Finished done = run_hvt({"--dry-run", "-e", program});
    EXPECT_EQ(done.exit_code, 0) << program << "\n" << done.err;
    EXPECT_EQ(done.out, "") << program;
  }
}

TEST_F(Probes, KprobeFallsBackToFentryAndSaysWhyBothFailed) {
  if (has_kprobes())
    GTEST_SKIP() << "this kernel has kprobes";
  Finished done = run_hvt({"-e", "kprobe:vfs_read { @ = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.out, "");
  EXPECT_EQ(done.err,
            "stdin:1:1-15: error: cannot attach kprobe:vfs_read: this kernel "
            "has no kprobe support (built without CONFIG_KPROBES), and the "
            "fentry fallback failed: the kernel refused to load the fentry "
            "program (Operation not permitted)\n"
            "kprobe:vfs_read { @ = count(); }\n"
            "^~~~~~~~~~~~~~~\n"
            "hint: trace a tracepoint instead (hvt -l 'tracepoint:*'), or use "
            "a kernel built with CONFIG_KPROBES=y\n"
            "hint: BPF trampolines (fentry/fexit) are disabled here, e.g. by a "
            "lockdown or LSM policy, or unsupported on this architecture\n");
}

TEST_F(Probes, FexitFallsBackToKretprobe) {
  if (has_kprobes())
    GTEST_SKIP() << "this kernel has kprobes";
  Finished done = run_hvt({"-e", "fexit:vfs_read { @ = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err.substr(0, done.err.find('\n')),
            "stdin:1:1-14: error: cannot attach fexit:vfs_read: the kernel "
            "refused to load the fexit program (Operation not permitted), and "
            "the kretprobe fallback failed: this kernel has no kprobe support "
            "(built without CONFIG_KPROBES)");
}

TEST_F(Probes, FallbackIsToldOnceWithVerbose) {
  Finished done = run_hvt(
      {"--dry-run", "-v", "-e",
       "fentry:vfs_read { @r = count(); } fentry:vfs_write { @w = count(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(count_of(done.err, "loaded as kprobe instead"), 1u) << done.err;
  EXPECT_NE(done.err.find("warning: fentry:vfs_read: the kernel refused to "
                          "load the fentry program (Operation not permitted); "
                          "loaded as kprobe instead"),
            std::string::npos)
      << done.err;
}

TEST_F(Probes, KprobeWildcardExpandsAgainstKernelFunctions) {
  // Compiles one program per match; here none can attach.
  Finished dry =
      run_hvt({"--dry-run", "-e", "kprobe:vfs_rea* { @[probe] = count(); }"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  if (has_kprobes())
    return;
  Finished done = run_hvt({"-e", "kprobe:vfs_rea* { @[probe] = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      done.err, std::regex("^stdin:1:1-15: error: cannot attach "
                           "kprobe:vfs_read \\(nor the [1-9][0-9]* other "
                           "matches of this attach point\\): this kernel has "
                           "no kprobe support")))
      << done.err;
}

TEST_F(Probes, MissingKernelFunctionIsNotFoundWithAHint) {
  Finished done = run_hvt({"-e", "kprobe:vfs_raed { @ = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err, "stdin:1:1-15: error: cannot attach kprobe:vfs_raed: "
                      "kernel function 'vfs_raed' does not exist\n"
                      "kprobe:vfs_raed { @ = count(); }\n"
                      "^~~~~~~~~~~~~~~\n"
                      "hint: did you mean 'vfs_read'?\n");
}

// ---------------------------------------------------------------------------
// Missing-probe policy

TEST_F(Probes, StolenTimeProbeOnAKernelWithNeither) {
  // The standard cpustolen attach points: Xen's function is absent here,
  // KVM's exists but neither kprobes nor trampolines can reach it.
  if (has_kprobes())
    GTEST_SKIP() << "this kernel has kprobes";
  Finished done =
      run_hvt({"-e", "kretprobe:xen_steal_clock, kretprobe:kvm_steal_clock "
                     "{ @ = hist(retval); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.err,
            "stdin:1:1-25: error: cannot attach kretprobe:xen_steal_clock: "
            "kernel function 'xen_steal_clock' does not exist\n"
            "kretprobe:xen_steal_clock, kretprobe:kvm_steal_clock { @ = "
            "hist(retval); }\n"
            "^~~~~~~~~~~~~~~~~~~~~~~~~\n"
            "hint: this kernel is not a Xen guest: it has no Xen functions\n"
            "stdin:1:28-52: error: cannot attach kretprobe:kvm_steal_clock: "
            "this kernel has no kprobe support (built without "
            "CONFIG_KPROBES), and the fexit fallback failed: the kernel "
            "refused to load the fexit program (Operation not permitted)\n"
            "kretprobe:xen_steal_clock, kretprobe:kvm_steal_clock { @ = "
            "hist(retval); }\n"
            "                           ^~~~~~~~~~~~~~~~~~~~~~~~~\n"
            "hint: trace a tracepoint instead (hvt -l 'tracepoint:*'), or use "
            "a kernel built with CONFIG_KPROBES=y\n"
            "hint: BPF trampolines (fentry/fexit) are disabled here, e.g. by a "
            "lockdown or LSM policy, or unsupported on this architecture\n");
}

TEST_F(Probes, ProbeRunsWhenOneAttachPointIsMissing) {
  std::string program =
      "tracepoint:xen:xen_mc_entry, tracepoint:syscalls:sys_enter_getppid "
      "/comm == \"hvt_partial\"/ { printf(\"%s\\n\", probe); exit(); }";
  HvtProcess hvt({"-v", "-e", program});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 20s))
      << hvt.finish(1s).err;
  syscalls_as("hvt_partial", 1);
  Finished done = hvt.finish(20s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\n"
                      "tracepoint:syscalls:sys_enter_getppid\n\n\n");
  EXPECT_NE(done.err.find("stdin:1:1-27: warning: tracepoint:xen:xen_mc_entry "
                          "is not attached: tracepoint category 'xen' does "
                          "not exist on this kernel\n"),
            std::string::npos)
      << done.err;
  EXPECT_NE(done.err.find("hint: this kernel is not a Xen guest: tracepoint "
                          "category xen does not exist\n"),
            std::string::npos)
      << done.err;
  // Without -v the left-out attach point is not mentioned.
  Finished quiet = run_hvt({"-e", program + " interval:ms:100 { exit(); }"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
}

TEST_F(Probes, FullyMissingTracepointFailsWithTheReason) {
  // Without a format for it, a missing tracepoint cannot even compile.
  Finished done =
      run_hvt({"-e", "tracepoint:syscalls:sys_enter_getppi { @ = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.out, "");
  EXPECT_EQ(done.err, "stdin:1:1-36: error: tracepoint "
                      "'syscalls:sys_enter_getppi' does not exist on this "
                      "kernel\n"
                      "tracepoint:syscalls:sys_enter_getppi { @ = count(); }\n"
                      "^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
                      "hint: did you mean "
                      "'tracepoint:syscalls:sys_enter_getppid'?\n");
}

TEST_F(Probes, XenTracepointOnAKernelThatIsNotAXenGuest) {
  // hvt may ship the format of xen tracepoints (then the program compiles
  // and the attach fails) or not (then the compiler says the same thing).
  Finished done =
      run_hvt({"-e", "tracepoint:xen:xen_mc_entry { @ = count(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.out, "");
  EXPECT_TRUE(std::regex_match(
      done.err,
      std::regex("stdin:1:1-27: error: (cannot attach "
                 "tracepoint:xen:xen_mc_entry: )?tracepoint category 'xen' "
                 "does not exist on this kernel\n"
                 "tracepoint:xen:xen_mc_entry \\{ @ = count\\(\\); \\}\n"
                 "\\^~{26}\n"
                 "hint: this kernel is not a Xen guest: tracepoint category "
                 "xen does not exist\n")))
      << done.err;
}

TEST_F(Probes, WildcardMatchingNothingIsSkippedBesideOthers) {
  Finished done = run_hvt(
      {"-v", "-e",
       "tracepoint:hvtnone:*, interval:ms:50 { printf(\"%s\\n\", probe); "
       "exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\ninterval:ms:50\n\n\n");
  EXPECT_NE(done.err.find("stdin:1:1-20: warning: tracepoint:hvtnone:* is not "
                          "attached: no tracepoint matches 'hvtnone:*' on this "
                          "kernel\n"),
            std::string::npos)
      << done.err;
}

TEST_F(Probes, WildcardMatchesThatCannotAttachAreToldOnce) {
  // xen:* matches the formats hvt ships; none exists on this kernel.
  Finished done = run_hvt({"-v", "-e",
                           "tracepoint:xen:*, interval:ms:50 { "
                           "printf(\"%s\\n\", probe); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\ninterval:ms:50\n\n\n");
  EXPECT_EQ(count_of(done.err, "warning: "), 1u) << done.err;
  EXPECT_TRUE(std::regex_search(
      done.err, std::regex("stdin:1:1-16: warning: tracepoint:xen:[a-z_]+"
                           "( and the [0-9]+ other matches of this attach "
                           "point are| is) not attached: tracepoint category "
                           "'xen' does not exist on this kernel\n")))
      << done.err;
}

// ---------------------------------------------------------------------------
// Clean exits

struct BpfIds {
  std::set<uint32_t> progs, maps, links;
};

// The BPF programs, maps and links process `pid` holds fds of.
BpfIds held_by(pid_t pid) {
  BpfIds ids;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR *d = opendir(dir.c_str());
  if (!d)
    return ids;
  while (dirent *entry = readdir(d)) {
    std::ifstream in(dir + "/" + entry->d_name);
    std::string line;
    while (std::getline(in, line)) {
      unsigned id = 0;
      if (sscanf(line.c_str(), "prog_id: %u", &id) == 1)
        ids.progs.insert(id);
      else if (sscanf(line.c_str(), "map_id: %u", &id) == 1)
        ids.maps.insert(id);
      else if (sscanf(line.c_str(), "link_id: %u", &id) == 1)
        ids.links.insert(id);
    }
  }
  closedir(d);
  return ids;
}

// How many of `ids` the kernel still knows.
size_t still_loaded(const BpfIds &ids) {
  size_t n = 0;
  for (uint32_t id : ids.progs)
    if (int fd = bpf_prog_get_fd_by_id(id); fd >= 0) {
      ++n;
      close(fd);
    }
  for (uint32_t id : ids.maps)
    if (int fd = bpf_map_get_fd_by_id(id); fd >= 0) {
      ++n;
      close(fd);
    }
  for (uint32_t id : ids.links)
    if (int fd = bpf_link_get_fd_by_id(id); fd >= 0) {
      ++n;
      close(fd);
    }
  return n;
}

std::string read_all(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_nothing_left_after(int sig) {
  std::string uprobe_events = read_all("/sys/kernel/tracing/uprobe_events");
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_getppid { @ = count(); }"
                        " profile:hz:49 { @p = count(); } interval:s:1 { }"
                        " uprobe:" +
                            kTarget + ":hvt_target_add { @u = count(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 4 probes...\n", 20s))
      << hvt.finish(1s).err;
  BpfIds ids = held_by(hvt.pid());
  EXPECT_GE(ids.progs.size(), 4u);
  EXPECT_GE(ids.links.size(), 4u);
  ASSERT_EQ(still_loaded(ids),
            ids.progs.size() + ids.maps.size() + ids.links.size());
  hvt.signal(sig);
  hvt.finish(10s);
  // The kernel frees programs after an RCU grace period.
  for (int i = 0; i < 100 && still_loaded(ids) > 0; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(still_loaded(ids), 0u) << "after signal " << sig;
  EXPECT_EQ(read_all("/sys/kernel/tracing/uprobe_events"), uprobe_events);
}

TEST_F(Probes, NothingLeaksAfterSigkill) { expect_nothing_left_after(SIGKILL); }
TEST_F(Probes, NothingLeaksAfterSigint) { expect_nothing_left_after(SIGINT); }
TEST_F(Probes, NothingLeaksAfterSigterm) { expect_nothing_left_after(SIGTERM); }

TEST_F(Probes, NothingLeaksAfterExit) {
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_getppid { @ = count(); }"
                        " interval:ms:300 { exit(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 2 probes...\n", 20s));
  BpfIds ids = held_by(hvt.pid());
  EXPECT_EQ(hvt.finish(10s).exit_code, 0);
  for (int i = 0; i < 100 && still_loaded(ids) > 0; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(still_loaded(ids), 0u);
}

// The background process that releases the tracepoints' perf events
// (runtime/detach.h): pids of this process's children named hvt-detach.
std::vector<pid_t> detach_children() {
  std::vector<pid_t> found;
  DIR *proc = opendir("/proc");
  while (dirent *entry = proc ? readdir(proc) : nullptr) {
    pid_t pid = atoi(entry->d_name);
    if (pid <= 0)
      continue;
    std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    char state = 0;
    int ppid = 0;
    if (paren != std::string::npos &&
        sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 &&
        ppid == getpid() && stat.find("(hvt-detach)") != std::string::npos)
      found.push_back(pid);
  }
  if (proc)
    closedir(proc);
  return found;
}

// The kernel releases a tracepoint's perf event after a grace period, one
// event after another (~35 ms each here: 13 s for sys_enter_*). hvt detaches
// its programs at once, prints and exits; a background process holding
// only those events (and the pipe it waits on) releases them.
TEST_F(Probes, TracepointsAreReleasedInTheBackground) {
  size_t matches = 0;
  DIR *events = opendir("/sys/kernel/tracing/events/syscalls");
  while (dirent *entry = events ? readdir(events) : nullptr)
    matches += std::string(entry->d_name).rfind("sys_enter_get", 0) == 0;
  if (events)
    closedir(events);
  ASSERT_GT(matches, 2u);
  // Orphaned on purpose, the background process is reparented here.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_get* "
                        "/comm == \"hvt_released\"/ { @calls = count(); }"
                        " interval:ms:1500 { exit(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout(
      "Attaching " + std::to_string(matches + 1) + " probes...\n", 20s))
      << hvt.finish(1s).err;
  BpfIds ids = held_by(hvt.pid());
  syscalls_as("hvt_released", 7);
  Finished done = hvt.finish(20s);
  std::vector<pid_t> background = detach_children();
  for (pid_t pid : background) {
    // Releasing: only perf events, and one pipe.
    std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    size_t perf_events = 0, pipes = 0, others = 0;
    DIR *dir = opendir(fds.c_str());
    while (dirent *entry = dir ? readdir(dir) : nullptr) {
      char target[256] = {};
      if (readlink((fds + "/" + entry->d_name).c_str(), target,
                   sizeof target - 1) < 0)
        continue;
      std::string link = target;
      if (link == "anon_inode:[perf_event]")
        ++perf_events;
      else if (link.rfind("pipe:", 0) == 0)
        ++pipes;
      else
        ++others;
    }
    if (dir)
      closedir(dir);
    // Still holding events when hvt is gone: ~30 releases, a grace period
    // each, take far longer than hvt's exit (were they released by hvt
    // itself, the background process would have none left to hold).
    EXPECT_GT(perf_events, 0u);
    EXPECT_LE(perf_events, matches);
    EXPECT_LE(pipes, 1u);
    EXPECT_EQ(others, 0u);
  }
  // One background process, which ends on its own.
  EXPECT_EQ(background.size(), 1u);
  for (pid_t pid : background) {
    int status = -1;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("\n@calls: 14\n"), std::string::npos) << done.out;
  // Programs, maps and links went with hvt: the background process holds
  // none of them.
  for (int i = 0; i < 100 && still_loaded(ids) > 0; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(still_loaded(ids), 0u);
}

TEST_F(Probes, ClosedOutputPipeEndsQuietly) {
  // `hvt ... | head -1`: head exits after the first line; hvt must notice
  // the closed pipe on its next write, detach and exit 0 without a word.
  std::string script = std::string(HVT_BINARY) +
                       " -e 'tracepoint:syscalls:sys_enter_getppid { "
                       "printf(\"line\\n\"); }' 2>/tmp/hvt_head_err | head -1;"
                       " echo \"status ${PIPESTATUS[0]}\"";
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t shell = fork();
  if (shell == 0) {
    dup2(out[1], 1);
    execl("/bin/bash", "bash", "-c", script.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  // Until the shell is done: read what head passes on, and make the probe
  // fire so hvt writes into the closed pipe.
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd = {out[0], POLLIN, 0};
    if (poll(&fd, 1, 50) > 0) {
      char buf[256];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0)
        break; // EOF: bash has exited
      text.append(buf, n);
    }
    if (text.find("Attaching") != std::string::npos)
      syscalls_as("hvt_head", 5);
  }
  close(out[0]);
  if (std::chrono::steady_clock::now() >= deadline)
    kill(shell, SIGKILL);
  waitpid(shell, nullptr, 0);
  EXPECT_EQ(text, "Attaching 1 probe...\nstatus 0\n");
  EXPECT_EQ(read_all("/tmp/hvt_head_err"), "");
  unlink("/tmp/hvt_head_err");
}

TEST_F(Probes, SecondSigintExitsWhilePrinting) {
  // 4000 map entries print 250 KB, far more than a pipe holds; the test does
  // not read, so hvt blocks in the middle of printing the maps at exit.
  HvtProcess hvt({"-e", "BEGIN { $i = 0; while ($i < 4000) { @m[$i] = "
                        "\"a value long enough to fill a pipe in no time at "
                        "all\"; $i++; } }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 20s))
      << hvt.finish(1s).err;
  hvt.signal(SIGINT);
  std::this_thread::sleep_for(500ms);
  auto start = std::chrono::steady_clock::now();
  hvt.signal(SIGINT);
  Finished done = hvt.finish(10s);
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_LT(done.out.size(), 4000u * 60); // far from all of it
}

long cpu_ticks(pid_t pid) {
  std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  return utime + stime;
}

TEST_F(Probes, IdleEventLoopCostsNoCpu) {
  HvtProcess hvt({"-e", "tracepoint:xen:*, tracepoint:syscalls:sys_enter_reboot"
                        " { @ = count(); } interval:s:100 { }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching", 20s)) << hvt.finish(1s).err;
  // Startup ends just after the "Attaching" line: hvt unloads its compiler
  // there, off the path to attaching.
  std::this_thread::sleep_for(300ms);
  long before = cpu_ticks(hvt.pid());
  std::this_thread::sleep_for(2s);
  long used = cpu_ticks(hvt.pid()) - before;
  EXPECT_LE(used, 1) << "clock ticks used in 2 s of idling";
  hvt.signal(SIGINT);
  EXPECT_EQ(hvt.finish(10s).exit_code, 0);
}

TEST_F(Probes, LostEventsAreCountedAndReported) {
  // The test does not read hvt's output while the flood runs: the pipe
  // fills, hvt blocks writing, the ring buffer fills, records are lost.
  HvtProcess hvt(
      {"-B", "none", "-e",
       "tracepoint:syscalls:sys_enter_getppid /comm == \"hvt_flood\"/"
       " { printf(\"a line long enough to fill buffers quickly: %s "
       "%s %s\\n\", comm, comm, comm); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 20s))
      << hvt.finish(1s).err;
  syscalls_as("hvt_flood", 200000);
  std::this_thread::sleep_for(200ms);
  std::thread stopper([&] {
    std::this_thread::sleep_for(1s);
    hvt.signal(SIGINT);
  });
  Finished done = hvt.finish(30s);
  stopper.join();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  size_t lost = 0;
  std::regex line(R"(\nLost (\d+) events\n)");
  for (std::sregex_iterator it(done.out.begin(), done.out.end(), line), end;
       it != end; ++it)
    lost += std::stoul((*it)[1]);
  EXPECT_GT(lost, 0u) << done.out.substr(0, 300);
  // Every record was either printed or counted as lost.
  EXPECT_EQ(count_of(done.out, "a line long enough") + lost, 200000u);
}

} // namespace
} // namespace hvt::test
