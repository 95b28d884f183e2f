// Limits checked on the typed AST before codegen (passes/resource_limits):
// the number of attach points, unrolled code size and loops that can never
// end.
#include "frontend/parser.h"
#include "passes/semantic.h"
#include "tracefs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace hvt {
namespace {

// Runs the front end and the limit checks; returns the rendered errors.
std::string limit_errors(const std::string &text) {
  SourceFile source("test.ht", text);
  Diagnostics diags;
  auto program = parse_program(source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(source);
  if (!program)
    return "";
  SemanticResult semantic;
  resolve_attach_points(*program, diags, semantic);
  check_types(*program, diags, semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(source);
  check_resource_limits(*program, semantic, diags);
  return diags.render(source);
}

std::string body_of(int statements) {
  std::string body;
  for (int i = 0; i < statements; ++i)
    body += "@a++; ";
  return body;
}

TEST(UnrollLimit, LargeButReasonableUnrollIsAllowed) {
  // 100 copies of 30 statements (3 nodes each): 9,000 nodes.
  EXPECT_EQ(limit_errors("BEGIN { unroll(100) { " + body_of(30) + "} }"), "");
}

TEST(UnrollLimit, NestedUnrollIsReportedAtTheOutermost) {
  EXPECT_EQ(limit_errors("BEGIN {\n"
                         "  unroll(100) {\n"
                         "    unroll(100) { @a++; @b++; }\n"
                         "  }\n"
                         "}\n"),
            "test.ht:2:3: error: unroll makes this probe too large: "
            "unrolled, it has 60101 statements and expressions, and the "
            "limit is 10000\n"
            "  unroll(100) {\n"
            "  ^~~~~~~~~~~~~\n"
            "hint: unroll fewer times, or use a while loop (it runs without "
            "copying its body)\n")
      << "the count covers both levels";
}

TEST(UnrollLimit, SizeDoesNotOverflow) {
  // 100^10 copies would overflow 64 bits; the count saturates.
  std::string text = "BEGIN { ";
  for (int i = 0; i < 10; ++i)
    text += "unroll(100) { ";
  text += "@a++;";
  for (int i = 0; i < 10; ++i)
    text += " }";
  text += " }";
  std::string errors = limit_errors(text);
  EXPECT_NE(errors.find("unrolled, it has more than 2^64 statements"),
            std::string::npos)
      << errors;
}

TEST(UnrollLimit, LongProgramsWithoutUnrollAreNotLimited) {
  EXPECT_EQ(limit_errors("BEGIN { " + body_of(20000) + "}"), "");
}

TEST(LoopEnds, ConstantTrueLoopWithoutExitIsRejected) {
  EXPECT_EQ(limit_errors("BEGIN { while (1) { @a++; } }"),
            "test.ht:1:16: error: this loop never ends: its condition is "
            "always true, and nothing in its body leaves it\n"
            "BEGIN { while (1) { @a++; } }\n"
            "               ^\n"
            "hint: add a 'break' or 'return', or a condition that becomes "
            "false; the kernel refuses programs that may not finish\n");
}

TEST(LoopEnds, BreakOrReturnAnywhereInTheBodyIsAnExit) {
  EXPECT_EQ(
      limit_errors("BEGIN { while (1) { if (@a > 5) { break; } @a++; } }"), "");
  EXPECT_EQ(limit_errors("BEGIN { while (2) { { return; } } }"), "");
  EXPECT_EQ(
      limit_errors("BEGIN { while (1) { unroll(2) { if (pid) { break; } } } }"),
      "");
}

TEST(LoopEnds, BreakOfAnInnerLoopDoesNotEndTheOuterOne) {
  std::string errors =
      limit_errors("BEGIN { while (1) { while (pid < 3) { break; } } }");
  EXPECT_NE(errors.find("this loop never ends"), std::string::npos) << errors;
  // A return in the inner loop ends the whole program.
  EXPECT_EQ(limit_errors("BEGIN { while (1) { while (pid < 3) { return; } } }"),
            "");
}

TEST(LoopEnds, LoopsWithRealConditionsAreLeftToTheVerifier) {
  EXPECT_EQ(limit_errors("BEGIN { $i = 0; while ($i < 10) { $i++; } }"), "");
  EXPECT_EQ(limit_errors("BEGIN { while (0) { @a++; } }"), "");
}

// Tracepoints of the syscalls category whose names start with `prefix`, as
// this kernel's tracefs lists them.
size_t syscall_tracepoints(const std::string &prefix) {
  size_t n = 0;
  for (const auto &name : tracefs::events("syscalls"))
    n += name.rfind(prefix, 0) == 0;
  return n;
}

// Three attach points in two probes, one per line after the config line.
const char *const kThreePoints =
    "tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_write "
    "{ @ = count(); }\n"
    "tracepoint:syscalls:sys_enter_close { @ = count(); }\n";

TEST(ProbeLimit, ConfigLowersTheLimitAndTheWidestPointIsBlamed) {
  EXPECT_EQ(
      limit_errors(std::string("config = { max_probes = 2 }\n") + kThreePoints),
      "test.ht:2:1-34: error: this program attaches 3 probes, over the "
      "limit of 2\n"
      "tracepoint:syscalls:sys_enter_read, "
      "tracepoint:syscalls:sys_enter_write { @ = count(); }\n"
      "^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
      "hint: 'tracepoint:syscalls:sys_enter_read' matches 1 of them: "
      "narrow it (hvt -l 'tracepoint:syscalls:sys_enter_read' lists "
      "them)\n"
      "hint: or raise the limit: config = { max_probes = 3 } or "
      "BPFTRACE_MAX_PROBES=3 (many probes at once can make the system "
      "unstable)\n");
  EXPECT_EQ(
      limit_errors(std::string("config = { max_probes = 3 }\n") + kThreePoints),
      "");
}

TEST(ProbeLimit, EnvironmentWinsOverTheConfigBlock) {
  setenv("BPFTRACE_MAX_PROBES", "3", 1);
  std::string within =
      limit_errors(std::string("config = { max_probes = 2 }\n") + kThreePoints);
  setenv("BPFTRACE_MAX_PROBES", "2", 1);
  std::string over =
      limit_errors(std::string("config = { max_probes = 3 }\n") + kThreePoints);
  unsetenv("BPFTRACE_MAX_PROBES");
  EXPECT_EQ(within, "");
  EXPECT_NE(over.find("error: this program attaches 3 probes, over the limit "
                      "of 2"),
            std::string::npos)
      << over;
}

TEST(ProbeLimit, AWildcardIsNamedWithItsMatches) {
  size_t matches = syscall_tracepoints("sys_enter_read");
  ASSERT_GE(matches, 2u) << "read and readv at least";
  std::string errors =
      limit_errors("config = { max_probes = 1 }\n"
                   "tracepoint:syscalls:sys_enter_read* { @ = count(); }\n");
  EXPECT_NE(errors.find("error: this program attaches " +
                        std::to_string(matches) +
                        " probes, over the limit "
                        "of 1\n"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("hint: 'tracepoint:syscalls:sys_enter_read*' matches " +
                        std::to_string(matches) + " of them"),
            std::string::npos)
      << errors;
}

TEST(ProbeLimit, DefaultIsBpftraces512) {
  size_t total = syscall_tracepoints("sys_");
  ASSERT_GT(total, 512u) << "this kernel has fewer syscall tracepoints";
  std::string errors = limit_errors("tracepoint:syscalls:* { @ = count(); }\n");
  EXPECT_NE(errors.find("error: this program attaches " +
                        std::to_string(total) +
                        " probes, over the limit of 512\n"),
            std::string::npos)
      << errors;
}

} // namespace
} // namespace hvt
