// Kernel runtime tests for the end-to-end slice: the real hvt binary against
// real tracepoints, with a workload this test controls.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <regex>
#include <csignal>
#include <thread>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

class Kernel : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }
};

// Forks a child named `name` that opens /dev/null `times` times.
pid_t open_files_as(const char *name, int times) {
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, name);
    for (int i = 0; i < times; ++i) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd >= 0)
        close(fd);
    }
    _exit(0);
  }
  return child;
}

// Names unique to this test process, so concurrent runs cannot mix counts.
std::string unique_name(const char *prefix) {
  return prefix + std::to_string(getpid() % 100000);
}

TEST_F(Kernel, OpenatCountsByCommSeeEveryOpen) {
  const std::string name = unique_name("hvt_o");
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }"
                        " interval:ms:1500 { exit(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 2 probes...\n", 20s));
  pid_t child = open_files_as(name.c_str(), 500);
  waitpid(child, nullptr, 0);
  Finished done = hvt.finish(20s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  std::smatch m;
  std::regex line("\n@\\[" + name + "\\]: (\\d+)\n");
  ASSERT_TRUE(std::regex_search(done.out, m, line)) << done.out;
  EXPECT_GE(std::stoi(m[1]), 500);
  // bpftrace layout: the Attaching line, two blank lines, then the map.
  EXPECT_EQ(done.out.rfind("Attaching 2 probes...\n\n\n@[", 0), 0u) << done.out;
}

TEST_F(Kernel, MapLinesAreSortedByValueAscending) {
  const std::string few_name = unique_name("hvt_f"), many_name = unique_name("hvt_m");
  HvtProcess hvt({"-e", "tracepoint:syscalls:sys_enter_openat /comm == \"" + few_name +
                            "\" || comm == \"" + many_name +
                            "\"/ { @[comm] = count(); } interval:ms:1200 { exit(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching", 20s));
  pid_t many = open_files_as(many_name.c_str(), 30);
  pid_t few = open_files_as(few_name.c_str(), 3);
  waitpid(many, nullptr, 0);
  waitpid(few, nullptr, 0);
  Finished done = hvt.finish(20s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("\n\n\n@[" + few_name + "]: 3\n@[" + many_name + "]: 30\n"),
            std::string::npos)
      << done.out;
}

TEST_F(Kernel, BeginPrintfIsExact) {
  Finished done = run_hvt({"-e", "BEGIN { printf(\"hello %d %u %x %s|\\t\\\"q\\\" \\\\ 100%%\\n\", "
                                 "-42, 7, 255, \"str\"); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nhello -42 7 ff str|\t\"q\" \\ 100%\n\n\n");
  EXPECT_EQ(done.err, "");
}

TEST_F(Kernel, BeginRunsBeforeEndAndEndRunsOnExit) {
  Finished done = run_hvt({"-e", "END { printf(\"end\\n\"); } BEGIN { printf(\"begin\\n\"); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 2 probes...\nbegin\nend\n\n\n");
}

TEST_F(Kernel, SigintStopsAndPrintsMaps) {
  HvtProcess hvt({"-e", "interval:ms:10 { @ticks = count(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 20s));
  std::this_thread::sleep_for(300ms);
  hvt.signal(SIGINT);
  Finished done = hvt.finish(10s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(done.out, m, std::regex(R"(\n\n\n@ticks: (\d+)\n$)"))) << done.out;
  EXPECT_GE(std::stoi(m[1]), 5);
}

TEST_F(Kernel, SigtermStopsToo) {
  HvtProcess hvt({"-e", "interval:ms:10 { @ticks = count(); }"});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching 1 probe...\n", 20s));
  std::this_thread::sleep_for(100ms);
  hvt.signal(SIGTERM);
  Finished done = hvt.finish(10s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("@ticks: "), std::string::npos) << done.out;
}

TEST_F(Kernel, BuiltinsInBegin) {
  Finished done = run_hvt({"-e", "BEGIN { printf(\"%s %d %d\\n\", comm, pid == tid, "
                                 "nsecs > 0); exit(); }"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nhvt 1 1\n\n\n");
}

TEST_F(Kernel, ScriptFileWithShebang) {
  char path[] = "/tmp/hvt_script_XXXXXX.bt";
  int fd = mkstemps(path, 3);
  ASSERT_GE(fd, 0);
  std::string text = "#!/usr/bin/env hvt\nBEGIN { printf(\"from file\\n\"); exit(); }\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  Finished done = run_hvt({path});
  unlink(path);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nfrom file\n\n\n");
}

TEST_F(Kernel, CompileErrorExitsOneWithDiagnostic) {
  Finished done = run_hvt({"-e", "BEGIN { @x = cuont(); }"});
  EXPECT_EQ(done.exit_code, 1);
  EXPECT_EQ(done.out, "");
  EXPECT_EQ(done.err, "stdin:1:14-18: error: unknown function 'cuont'\n"
                      "BEGIN { @x = cuont(); }\n"
                      "             ^~~~~\n"
                      "hint: did you mean 'count'?\n");
}

TEST_F(Kernel, WithoutPrivilegesOneSentenceAndNothingAttached) {
  // Drop to nobody in a child and run hvt there; capture its stderr.
  char err_path[] = "/tmp/hvt_noperm_XXXXXX";
  int err_fd = mkstemp(err_path);
  ASSERT_GE(err_fd, 0);
  fchmod(err_fd, 0666);
  pid_t child = fork();
  if (child == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(err_fd, 2);
    if (setgid(65534) != 0 || setuid(65534) != 0)
      _exit(99);
    execl(HVT_BINARY, HVT_BINARY, "-e", "BEGIN { printf(\"x\\n\"); }", nullptr);
    _exit(98);
  }
  int status = 0;
  waitpid(child, &status, 0);
  std::string err(4096, '\0');
  ssize_t n = pread(err_fd, err.data(), err.size(), 0);
  err.resize(n > 0 ? n : 0);
  close(err_fd);
  unlink(err_path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(err, "hvt: tracing needs root or the CAP_BPF and CAP_PERFMON "
                 "capabilities; run it with sudo\n");
}

} // namespace
} // namespace hvt::test
