// Bad input, end to end: the real hvt binary on every program in
// tests/bad_input/, as a user would run it. For NAME.ht the exact stderr is
// NAME.expected; NAME.args, if present, holds extra arguments ($1...), one
// per line. Every case must exit with code 1, print nothing on stdout and
// load nothing: hvt runs under a seccomp filter that kills it if it calls
// bpf() or perf_event_open(), so reaching the kernel at all fails the test.
//
// A few inputs are generated here instead of stored (a very long program,
// input on stdin and -e).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(HVT_SOURCE_DIR) / "tests" / "bad_input";

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "add this architecture's AUDIT_ARCH value"
#endif

// In the child, before exec: any bpf() or perf_event_open() kills it.
bool forbid_loading() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  struct sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

struct Result {
  int exit_code = -1; // -1 unless hvt exited normally
  int signal = 0;     // the signal that ended hvt, if any
  bool timed_out = false;
  std::string out, err;
};

// Runs hvt with `args` in `dir`, feeding `input` on stdin.
Result run_hvt_once(const std::vector<std::string> &args, const fs::path &dir,
                    const std::string &input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (chdir(dir.c_str()) != 0 || !forbid_loading())
      _exit(127);
    // In sanitizer builds LeakSanitizer checks each run to its exit: its
    // report on stderr fails the comparison with the expected diagnostics.
    std::vector<char *> argv{const_cast<char *>(HVT_BINARY)};
    for (const auto &arg : args)
      argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    execv(HVT_BINARY, argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // hvt may not read its input at all; a closed pipe is not our error.
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < input.size()) {
    ssize_t n = write(in[1], input.data() + written, input.size() - written);
    if (n <= 0)
      break;
    written += n;
  }
  close(in[1]);

  Result result;
  // Generous: sanitizer builds are several times slower.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buffer[65536];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, n);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto &fd : fds)
    if (fd.fd >= 0)
      close(fd.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  return result;
}

// In sanitizer builds LeakSanitizer's own tracer crashes now and then at
// exit ("LeakSanitizer has encountered a fatal error", docs/robustness.md):
// such a run says nothing about hvt, and runs again. A leak report is
// another message, and fails the test.
Result run_hvt(const std::vector<std::string> &args, const fs::path &dir,
               const std::string &input = "") {
  Result result = run_hvt_once(args, dir, input);
  for (int retry = 0;
       retry < 2 && result.err.find("LeakSanitizer has encountered a fatal "
                                    "error") != std::string::npos;
       ++retry)
    result = run_hvt_once(args, dir, input);
  return result;
}

std::string read_file(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> read_lines(const fs::path &path) {
  std::vector<std::string> lines;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);)
    lines.push_back(line);
  return lines;
}

// hvt refuses to compile anything unless it may trace; without root the
// cases cannot reach the compiler.
bool may_run(std::string &why) {
  if (geteuid() == 0)
    return true;
  why = "hvt checks for root before compiling; run the tests as root";
  return false;
}

// Checks the contract of a rejected program.
void expect_rejected(const Result &result, const std::string &expected_err) {
  EXPECT_FALSE(result.timed_out) << "hvt did not finish within 120 s";
  EXPECT_NE(result.signal, SIGSYS)
      << "hvt called bpf() or perf_event_open(): a bad program reached the "
         "kernel";
  EXPECT_EQ(result.signal, 0)
      << "hvt was killed by signal " << result.signal << "\n"
      << result.err;
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, expected_err);
}

std::vector<std::string> corpus_cases() {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(kCorpus))
    if (entry.path().extension() == ".ht")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class BadInput : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::string why;
    if (!may_run(why))
      GTEST_SKIP() << why;
  }
};

TEST_P(BadInput, ExactDiagnosticAndNothingLoaded) {
  const std::string &name = GetParam();
  fs::path expected = kCorpus / (name + ".expected");
  ASSERT_TRUE(fs::exists(expected)) << expected << " is missing";
  std::vector<std::string> args{name + ".ht"};
  if (fs::path extra = kCorpus / (name + ".args"); fs::exists(extra))
    for (const auto &arg : read_lines(extra))
      args.push_back(arg);
  expect_rejected(run_hvt(args, kCorpus), read_file(expected));
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(corpus_cases()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) {
                                 return !isalnum(static_cast<unsigned char>(c));
                               },
                               '_');
                           return name;
                         });

// Every expectation has its program, so none is silently skipped.
TEST(BadInputCorpus, EveryExpectationHasAProgram) {
  size_t programs = 0;
  for (const auto &entry : fs::directory_iterator(kCorpus)) {
    auto extension = entry.path().extension();
    if (extension == ".expected" || extension == ".args") {
      fs::path program = entry.path();
      program.replace_extension(".ht");
      EXPECT_TRUE(fs::exists(program)) << entry.path() << " has no program";
    } else if (extension == ".ht") {
      ++programs;
    }
  }
  EXPECT_GE(programs, 40u);
}

class BadInputGenerated : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!may_run(why))
      GTEST_SKIP() << why;
  }
};

// 50,000 lines, the error on the last one: line numbers stay exact and the
// front end does not slow to a crawl.
TEST_F(BadInputGenerated, VeryLongProgramErrorOnLastLine) {
  std::string program = "BEGIN {\n";
  for (int i = 0; i < 49998; ++i)
    program +=
        "  @a" + std::to_string(i % 100) + " = " + std::to_string(i) + ";\n";
  program += "  @a0 = \"x\"; }\n";
  expect_rejected(
      run_hvt({"-"}, kCorpus, program),
      "stdin:50000:9-11: error: map @a0 is assigned a value of type "
      "string[8], but it already holds int64\n"
      "  @a0 = \"x\"; }\n"
      "        ^~~\n"
      "stdin:2:9: note: first assigned here\n"
      "  @a0 = 0;\n"
      "        ^\n");
}

TEST_F(BadInputGenerated, EmptyProgramText) {
  expect_rejected(run_hvt({"-e", ""}, kCorpus),
                  "stdin:1:1: error: no probes in program\n"
                  "\n"
                  "^\n"
                  "hint: a probe looks like: kprobe:vfs_read { @reads = "
                  "count(); }\n");
}

// Only the first error on a line is reported; the rest is usually fallout.
TEST_F(BadInputGenerated, NonUtf8OnStdin) {
  expect_rejected(run_hvt({"-"}, kCorpus, "BEGIN { \xff\xfe }\n"),
                  "stdin:1:9: error: unexpected character '\\xff'\n"
                  "BEGIN { \xff\xfe }\n"
                  "        ^\n");
}

// The guard the cases rely on: a good program, run the same way, is
// stopped as it reaches the kernel.
TEST_F(BadInputGenerated, HarnessStopsAProgramThatLoads) {
  Result result = run_hvt({"-e", "BEGIN { exit(); }"}, kCorpus);
  EXPECT_EQ(result.signal, SIGSYS) << "exit code " << result.exit_code << "\n"
                                   << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(BadInputGenerated, MissingScriptFile) {
  Result result = run_hvt({"no_such_script.ht"}, kCorpus);
  expect_rejected(result, "hvt: cannot read 'no_such_script.ht': No such file "
                          "or directory\n");
}

} // namespace
