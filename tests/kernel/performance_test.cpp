// The codegen optimizations of docs/performance.md do not change what
// programs compute: shared map reads see every write, in every branch, and
// hist() buckets match bpftrace 0.17's (values below 2^32, where bpftrace is
// exact). BEGIN-only programs, so the output is deterministic; the expected
// texts are bpftrace 0.17's for the same programs.
#include "hvt_process.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hvt::test {
namespace {

class OptimizedPrograms : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
  }

  // Output of `program`, compiled afresh.
  static std::string output_of(const std::string &program) {
    Finished done = run_hvt({"--no-cache", "-e", program}, 60s);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    return done.out;
  }
};

TEST_F(OptimizedPrograms, SharedMapReadsSeeEveryWrite) {
  EXPECT_EQ(output_of("BEGIN { @x[1] = 5; $a = @x[1]; @x[1] = 7; $b = @x[1];"
                      " printf(\"%d %d\\n\", $a, $b); clear(@x); exit(); }"),
            "Attaching 1 probe...\n5 7\n\n\n\n");
  EXPECT_EQ(output_of("BEGIN { @x[1] = 1; if (@x[1]) { @x[1] = 2; }"
                      " printf(\"%d\\n\", @x[1]); clear(@x); exit(); }"),
            "Attaching 1 probe...\n2\n\n\n\n");
  EXPECT_EQ(output_of("BEGIN { @x[1] = 1; $c = @x[1] > 0 && @x[1]++ > 0;"
                      " printf(\"%d %d\\n\", $c, @x[1]); clear(@x); exit(); }"),
            "Attaching 1 probe...\n1 2\n\n\n\n");
  EXPECT_EQ(output_of("BEGIN { @x[1] = 3; $i = 0; while ($i < 3) {"
                      " @x[1] = @x[1] + 1; $i++; } printf(\"%d\\n\", @x[1]);"
                      " delete(@x[1]); printf(\"%d\\n\", @x[1]); exit(); }"),
            "Attaching 1 probe...\n6\n0\n\n\n\n");
}

TEST_F(OptimizedPrograms, HistBucketsMatchBpftrace) {
  // bpftrace 0.17's output for the same program.
  // clang-format off
  EXPECT_EQ(output_of("BEGIN { @h = hist(0); @h = hist(1); @h = hist(-5);"
                      " @h = hist(3); @h = hist(1000); @h = hist(1023);"
                      " @h = hist(1024); exit(); }"),
            "Attaching 1 probe...\n\n\n"
            "@h: \n"
            "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "[4, 8)                 0 |                                                    |\n"
            "[8, 16)                0 |                                                    |\n"
            "[16, 32)               0 |                                                    |\n"
            "[32, 64)               0 |                                                    |\n"
            "[64, 128)              0 |                                                    |\n"
            "[128, 256)             0 |                                                    |\n"
            "[256, 512)             0 |                                                    |\n"
            "[512, 1K)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
            "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
            "\n");
  // clang-format on
}

} // namespace
} // namespace hvt::test
