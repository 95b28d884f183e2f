// Kernel tests of the preprocessor: scripts written the way bpftrace's
// stock tools are (C preprocessor lines, BTF-guarded kernel headers, macros
// from system headers) compile through the verifier and run.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace hvt::test {
namespace {

class PreprocessorKernel : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
    dir_ = fs::temp_directory_path() /
           ("hvt_pp_kernel_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string &name, const std::string &text) {
    fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

// In the style of tcpconnect.bt: kernel headers only for kernels without
// BTF, the family constants from <sys/socket.h>.
const char *const kConnectStyle = R"(#!/usr/bin/env bpftrace
/*
 * Counts TCP state changes by address family.
 */
#ifndef BPFTRACE_HAVE_BTF
#include <linux/socket.h>
#include <net/sock.h>
#else
#include <sys/socket.h>
#endif

#define PRINT_EVERY 5

BEGIN
{
  printf("Tracing TCP state changes. Hit Ctrl-C to end.\n");
}

tracepoint:sock:inet_sock_set_state
/args->family == AF_INET || args->family == AF_INET6/
{
  $v6 = args->family == AF_INET6;
  @changes[$v6 ? "ipv6" : "ipv4", args->newstate] = count();
}

kprobe:tcp_connect
{
  @connects = count();
}

interval:s:5
{
  if (@connects % PRINT_EVERY == 0) { print(@changes); }
}
)";

// In the style of runqlen.bt: a C struct for BTF-less kernels, skipped.
const char *const kRunqlenStyle = R"(
#ifndef BPFTRACE_HAVE_BTF
#include <linux/sched.h>

struct cfs_rq_partial {
	struct load_weight load;
	unsigned int nr_running;
};
#endif

#define MAX_LEN 64

profile:hz:99
{
  @len = lhist(cpu % MAX_LEN, 0, MAX_LEN, 1);
}
)";

TEST_F(PreprocessorKernel, StockToolStyleScriptsPassTheVerifier) {
  for (const char *text : {kConnectStyle, kRunqlenStyle}) {
    std::string script = write("tool.bt", text);
    Finished done = run_hvt({"--no-cache", "--dry-run", script}, 60s);
    EXPECT_EQ(done.exit_code, 0) << text << "\n" << done.err;
    EXPECT_EQ(done.err.find("error"), std::string::npos) << done.err;
  }
}

TEST_F(PreprocessorKernel, SystemHeaderMacroValuesReachTheProgram) {
  write("local.h", "#define LOCAL_MARK 4242\n");
  std::string script = write(
      "socket.bt", "#include <sys/socket.h>\n"
                   "#include \"local.h\"\n"
                   "BEGIN { printf(\"%d %d %d\\n\", AF_INET6, AF_INET, "
                   "LOCAL_MARK); }\n"
                   "tracepoint:syscalls:sys_enter_socket\n"
                   "/pid == $1 && args->family == AF_INET6/\n"
                   "{ printf(\"family %d\\n\", args->family); exit(); }\n");
  HvtProcess hvt({"--no-cache", script, std::to_string(getpid())});
  ASSERT_TRUE(hvt.wait_for_stdout("Attaching", 20s));
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd >= 0)
    close(fd);
  Finished done = hvt.finish(20s);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("10 2 4242\n"), std::string::npos) << done.out;
  EXPECT_NE(done.out.find("family 10\n"), std::string::npos) << done.out;
}

TEST_F(PreprocessorKernel, AChangedHeaderIsNotServedFromTheCache) {
  // hvt_process runs hvt with this process's environment.
  setenv("HVT_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  std::string script =
      write("cached.bt", "#include \"value.h\"\n"
                         "BEGIN { printf(\"value %d\\n\", VALUE); exit(); }\n");
  write("value.h", "#define VALUE 1\n");
  auto run = [&] { return run_hvt({"-v", script}, 60s); };
  Finished first = run();
  EXPECT_NE(first.out.find("value 1\n"), std::string::npos) << first.err;
  write("value.h", "#define VALUE 2 /* a different size */\n");
  Finished second = run();
  EXPECT_NE(second.out.find("value 2\n"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("changed; compiling again"), std::string::npos)
      << second.err;
  unsetenv("HVT_CACHE_DIR");
}

} // namespace
} // namespace hvt::test
