// The codegen optimizations of docs/performance.md do not change what
// programs compute: shared map reads see every write, in every branch, and
// hist() buckets match bpftrace 0.17's (values below 2^32, where bpftrace is
// exact). BEGIN-only programs, so the output is deterministic; the expected
// texts are bpftrace 0.17's for the same programs.
#include "hvt_process.h"

#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <sstream>
#include <vector>

#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// The log2 steps (log2_bucket.cpp) on values the compiler cannot fold: both
// sides of every power of two. Each bucket gets exactly one value, so a
// wrong step shows as a bucket with two and one with none. (2^63 is
// negative as hist() reads it.)
TEST_F(OptimizedPrograms, HistBucketsAtEveryPowerOfTwo) {
  std::string out =
      output_of("BEGIN { $x = (uint64)1; $i = 0; while ($i < 63) { $x = $x * 2;"
                " @below = hist($x - 1); @at = hist($x); $i++; } exit(); }");
  // @at: 2^1 .. 2^62 in [2, 4) .. [4E, 8E), 2^63 below zero; @below:
  // 2^k - 1 in [2^(k-1), 2^k): 1 in [1], ..., 2^63 - 1 in [4E, 8E).
  auto counts = [&](const std::string &map) {
    std::map<std::string, int> buckets;
    size_t at = out.find("@" + map + ": \n");
    EXPECT_NE(at, std::string::npos) << out;
    std::istringstream lines(out.substr(at));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && !line.empty()) {
      std::istringstream fields(line.substr(0, line.find('|')));
      std::string bucket, second;
      int n = 0;
      fields >> bucket;
      if (bucket.back() == ',') { // "[2, 4)"
        fields >> second;
        bucket += " " + second;
      }
      fields >> n;
      if (n)
        buckets[bucket] = n;
    }
    return buckets;
  };
  std::map<std::string, int> at = counts("at");
  std::map<std::string, int> below = counts("below");
  EXPECT_EQ(at.size(), 63u) << out;
  EXPECT_EQ(below.size(), 63u) << out;
  for (const auto &[bucket, n] : at)
    EXPECT_EQ(n, 1) << bucket << "\n" << out;
  for (const auto &[bucket, n] : below)
    EXPECT_EQ(n, 1) << bucket << "\n" << out;
  for (const char *bucket : {"(..., 0)", "[2, 4)", "[4G, 8G)", "[4E, 8E)"})
    EXPECT_EQ(at.count(bucket), 1u) << bucket << "\n" << out;
  for (const char *bucket : {"[1]", "[2G, 4G)", "[4E, 8E)"})
    EXPECT_EQ(below.count(bucket), 1u) << bucket << "\n" << out;
}

TEST_F(OptimizedPrograms, KeyLessHistogramsZeroAndClearAsBpftraceDoes) {
  // Key-less hist()/lhist() live in per-CPU arrays of buckets: zero() keeps
  // them (printed empty), clear() removes them, as in bpftrace's hashes.
  EXPECT_EQ(output_of("BEGIN { @h = hist(5); @l = lhist(3, 0, 10, 2);"
                      " @k[1] = hist(3); zero(@h); zero(@l); zero(@k);"
                      " @c = hist(4); clear(@c); exit(); }"),
            "Attaching 1 probe...\n\n\n\n@h: \n\n@k[1]: \n\n@l: \n\n");
}

TEST_F(OptimizedPrograms, ThirtyTwoBitKeysPrintAsBpftraceDoes) {
  // These maps get 4-byte keys: small literals, uint32 and int32 values,
  // tid. bpftrace 0.17 keeps 8-byte keys and prints this.
  EXPECT_EQ(output_of("BEGIN { @a[7] = 1; @a[3] = 2;"
                      " @b[(uint32)4000000000] = 5; @s[(int32)-5] = 1;"
                      " @s[(int32)6] = 2; @t[tid] = 1; delete(@t[tid]);"
                      " @t[0] = 3; exit(); }"),
            "Attaching 1 probe...\n\n\n@a[7]: 1\n@a[3]: 2\n"
            "@b[4000000000]: 5\n@s[-5]: 1\n@s[6]: 2\n@t[0]: 3\n");
}

TEST_F(OptimizedPrograms, TupleReadSharedByPredicateAndBody) {
  // kvmexits' pattern: the tuple read in the predicate is the one the body
  // copies; a delete in between makes the next read see nothing (hvt only:
  // bpftrace 0.17 cannot read a missing tuple value).
  EXPECT_EQ(output_of("BEGIN { @e[tid] = (5, 2, \"x\"); } "
                      "BEGIN /@e[tid].0/ { $e = @e[tid];"
                      " @h[$e.1, $e.2] = count(); delete(@e[tid]);"
                      " $f = @e[tid]; printf(\"%d %d\\n\", $e.0, $f.0);"
                      " exit(); }"),
            "Attaching 2 probes...\n5 0\n\n\n\n@h[2, x]: 1\n");
}

} // namespace
} // namespace hvt::test

namespace hvt::test {
namespace {

// BEGIN and END without BPF programs (constant records, codegen.cpp) print
// exactly what their programs did. Expected texts: bpftrace 0.17's.
TEST_F(OptimizedPrograms, BeginAndEndWithoutProgramsPrintAsBpftraceDoes) {
  EXPECT_EQ(output_of("BEGIN { printf(\"Tracing %s... Hit Ctrl-C to end. "
                      "%d\\n\", \"things\", 42); @t[1] = \"one\"; "
                      "@t[2] = \"two\"; print(@t); exit(); } "
                      "END { printf(\"bye\\n\"); clear(@t); }"),
            "Attaching 2 probes...\nTracing things... Hit Ctrl-C to end. "
            "42\n@t[1]: one\n@t[2]: two\nbye\n\n\n\n");
  // exit() first: what follows it is not shown; END still runs.
  EXPECT_EQ(output_of("BEGIN { exit(); printf(\"not shown\\n\"); } "
                      "END { printf(\"end\\n\"); }"),
            "Attaching 2 probes...\nend\n\n\n");
}

} // namespace
} // namespace hvt::test

namespace hvt::test {
namespace {

// HVT_TIMELINE (runtime/timeline.h): where a start spends its time, as
// bench/bench.py and docs/performance.md read it.
class StartupTimeline : public ::testing::Test {
protected:
  void SetUp() override {
    std::string why;
    if (!bpf_available(why))
      GTEST_SKIP() << "BPF unavailable: " << why;
    ASSERT_TRUE(cache_.create());
  }
  void TearDown() override { unsetenv("HVT_TIMELINE"); }

  struct Mark {
    double ms;
    std::string phase;
  };
  // The timeline's lines in `err`, in the order written; fails the test on
  // a malformed one.
  static std::vector<Mark> marks(const std::string &err) {
    std::vector<Mark> found;
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("hvt-timeline ", 0) != 0)
        continue;
      std::istringstream fields(line.substr(13));
      Mark mark;
      EXPECT_TRUE(fields >> mark.ms >> mark.phase) << line;
      EXPECT_GE(mark.ms, 0.0) << line;
      found.push_back(mark);
    }
    return found;
  }
  // The time of `phase`, which must show exactly once; -1 when it does not.
  static double at(const std::vector<Mark> &marks, const std::string &phase) {
    double ms = -1;
    int seen = 0;
    for (const Mark &mark : marks)
      if (mark.phase == phase) {
        ms = mark.ms;
        ++seen;
      }
    EXPECT_EQ(seen, 1) << phase;
    return ms;
  }
  // Each phase of `chain` comes no sooner than the one before it.
  static void in_order(const std::vector<Mark> &marks,
                       const std::vector<std::string> &chain) {
    double previous = 0;
    for (const auto &phase : chain) {
      double ms = at(marks, phase);
      EXPECT_GE(ms, previous) << phase;
      previous = ms;
    }
  }

  PrivateCacheDir cache_;
};

TEST_F(StartupTimeline, CompilingRunMarksEachPhaseInCausalOrder) {
  setenv("HVT_TIMELINE", "1", 1);
  Finished first =
      run_hvt({"--dry-run", "-e",
               "tracepoint:syscalls:sys_enter_read { @[tid] = count(); }"},
              60s);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto timeline = marks(first.err);
  // The front end and the code generator's load run side by side: each
  // half is ordered, and the compile starts after both.
  in_order(timeline,
           {"start", "main", "arguments", "cache-miss", "front-end-start",
            "front-end-done", "compile-start", "ir", "optimized", "emitted",
            "compiled", "opened", "loaded"});
  in_order(timeline, {"cache-miss", "codegen-load-start", "codegen-loaded"});
  EXPECT_LE(at(timeline, "codegen-loaded"), at(timeline, "compile-start"));

  // The entry was stored after the run (--dry-run: once it loaded): the
  // second run is served by the cache and compiles nothing.
  Finished second = run_hvt({"--dry-run", "-e",
                             "tracepoint:syscalls:sys_enter_read"
                             " { @[tid] = count(); }"},
                            60s);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto cached = marks(second.err);
  in_order(cached, {"start", "main", "arguments", "cache-hit", "compiled",
                    "opened", "loaded"});
  for (const Mark &mark : cached)
    EXPECT_TRUE(mark.phase != "front-end-start" &&
                mark.phase != "codegen-load-start" && mark.phase != "ir")
        << mark.phase << " in a cached run";
}

TEST_F(StartupTimeline, MissIsStoredOnlyOnceTheProbesAreAttached) {
  setenv("HVT_TIMELINE", "1", 1);
  Finished done =
      run_hvt({"-v", "-e", "BEGIN { printf(\"up\\n\"); exit(); }"}, 60s);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.out, "Attaching 1 probe...\nup\n\n\n");
  auto attached = done.err.find(" attached\n");
  auto stored = done.err.find("compile cache: miss; stored");
  ASSERT_NE(attached, std::string::npos) << done.err;
  ASSERT_NE(stored, std::string::npos) << done.err;
  EXPECT_LT(attached, stored) << done.err;
  Finished again =
      run_hvt({"-v", "-e", "BEGIN { printf(\"up\\n\"); exit(); }"}, 60s);
  EXPECT_NE(again.err.find("compile cache: hit"), std::string::npos)
      << again.err;
}

// Runs `program` with this process's pid as $1 until it attached, makes 3
// getppid() and 2 getuid() calls, and stops it: what it printed and its
// timeline.
Finished trace_own_calls(const std::string &program) {
  HvtProcess hvt({"-e", program, std::to_string(getpid())});
  EXPECT_TRUE(hvt.wait_for_stdout("Attaching", 60s));
  for (int i = 0; i < 3; ++i)
    syscall(SYS_getppid);
  for (int i = 0; i < 2; ++i)
    syscall(SYS_getuid);
  hvt.signal(SIGINT);
  return hvt.finish(60s);
}

// The maps and the tracepoints' perf events are made while something else
// runs (runtime/objects_ahead.h): a compiling run makes both on the front
// end's thread during the compile; a cached run with many tracepoints opens
// their events on a thread of its own while the programs load. Each program
// still counts exactly its own tracepoint's events, into the map it adopted.
TEST_F(StartupTimeline, ManyTracepointsOpenAheadInBothRuns) {
  setenv("HVT_TIMELINE", "1", 1);
  // ~30 tracepoints; the runtime opens ahead from 16 on.
  const std::string program = "tracepoint:syscalls:sys_enter_get* "
                              "/pid == $1/ { @[probe] = count(); }";
  for (const char *run : {"compiling run", "cached run"}) {
    SCOPED_TRACE(run);
    Finished done = trace_own_calls(program);
    ASSERT_EQ(done.exit_code, 0) << done.err;
    EXPECT_NE(done.out.find("@[tracepoint:syscalls:sys_enter_getppid]: 3\n"),
              std::string::npos)
        << done.out;
    EXPECT_NE(done.out.find("@[tracepoint:syscalls:sys_enter_getuid]: 2\n"),
              std::string::npos)
        << done.out;
    auto timeline = marks(done.err);
    if (std::string(run) == "cached run") {
      in_order(timeline, {"cache-hit", "tracepoints-opened", "attached"});
      for (const Mark &mark : timeline)
        EXPECT_NE(mark.phase, "maps-made");
    } else {
      // Made once the program passed its checks (a program the compiler
      // rejects makes nothing: tests/bad_input); the load waits for the
      // maps, the attach for the events.
      in_order(timeline, {"front-end-done", "optimized", "maps-made", "loaded",
                          "attached"});
      in_order(timeline, {"maps-made", "tracepoints-opened", "attached"});
    }
  }
}

// With few tracepoints a cached run opens each as it attaches: a thread
// would cost more than it saves.
TEST_F(StartupTimeline, FewTracepointsOpenAheadOnlyWhenCompiling) {
  setenv("HVT_TIMELINE", "1", 1);
  const std::string program =
      "tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @ = count(); }";
  Finished compiled = trace_own_calls(program);
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  EXPECT_EQ(compiled.out, "Attaching 1 probe...\n\n\n@: 3\n");
  auto compiling = marks(compiled.err);
  in_order(compiling,
           {"front-end-done", "optimized", "maps-made", "loaded", "attached"});
  in_order(compiling, {"maps-made", "tracepoints-opened", "attached"});

  Finished cached = trace_own_calls(program);
  ASSERT_EQ(cached.exit_code, 0) << cached.err;
  EXPECT_EQ(cached.out, "Attaching 1 probe...\n\n\n@: 3\n");
  auto timeline = marks(cached.err);
  in_order(timeline, {"cache-hit", "loaded", "attached"});
  for (const Mark &mark : timeline)
    EXPECT_NE(mark.phase, "tracepoints-opened");
}

TEST_F(StartupTimeline, SilentUnlessAskedFor) {
  unsetenv("HVT_TIMELINE");
  Finished done = run_hvt({"-e", "BEGIN { exit(); }"}, 60s);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(done.err.find("hvt-timeline"), std::string::npos) << done.err;
  // A harness's origin: times count from the moment it gives.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long origin = now.tv_sec * 1000000000LL + now.tv_nsec;
  setenv("HVT_TIMELINE", std::to_string(origin).c_str(), 1);
  Finished timed = run_hvt({"-e", "BEGIN { exit(); }"}, 60s);
  ASSERT_EQ(timed.exit_code, 0) << timed.err;
  auto timeline = marks(timed.err);
  // exec and the dynamic loader come before hvt's first mark.
  EXPECT_GT(at(timeline, "start"), 0.0);
  in_order(timeline, {"start", "main", "compiled", "loaded", "attached"});
}

} // namespace
} // namespace hvt::test
