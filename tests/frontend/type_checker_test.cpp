// Semantic passes: inferred types and golden diagnostics (exact text,
// including the underline), one test per error kind.
#include "frontend/parser.h"
#include "passes/semantic.h"

#include <gtest/gtest.h>

namespace hvt {
namespace {

struct Checked {
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;
  std::string diagnostics;
};

Checked check(const std::string &text) {
  Checked out;
  SourceFile source("test.ht", text);
  Diagnostics diags;
  out.program = parse_program(source, diags);
  if (out.program && !diags.has_errors()) {
    resolve_attach_points(*out.program, diags, out.semantic);
    if (!diags.has_errors())
      check_types(*out.program, diags, out.semantic);
  }
  out.diagnostics = diags.render(source);
  return out;
}

TEST(TypeChecker, CountMapKeyedByComm) {
  auto c = check("BEGIN { @[comm] = count(); }");
  ASSERT_EQ(c.diagnostics, "");
  const MapDesc *map = c.semantic.find_map("@");
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->agg, AggKind::Count);
  EXPECT_EQ(map->key, Type::string(16));
  EXPECT_EQ(map->storage, MapStorage::PercpuHash);
}

TEST(TypeChecker, MultiKeyMapIsTuple) {
  auto c = check("BEGIN { @m[pid, comm] = sum(5); }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@m")->key.name(), "(uint64,string[16])");
  EXPECT_EQ(c.semantic.find_map("@m")->value.name(), "int64");
}

TEST(TypeChecker, MapTypeLearnedFromLaterProbe) {
  auto c = check("BEGIN { printf(\"%d\\n\", @x); } END { @x = 5; }");
  EXPECT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@x")->value.name(), "int64");
}

TEST(TypeChecker, StringMapValuesWidenToLargest) {
  auto c = check("BEGIN { @s = \"ab\"; @s = comm; }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@s")->value, Type::string(16));
}

TEST(TypeChecker, ExpressionTypes) {
  auto c = check("BEGIN { $a = (uint8)300; $b = -1; $c = pid + 1; $d = \"x\" == \"y\"; }");
  ASSERT_EQ(c.diagnostics, "");
  const auto &vars = c.semantic.probes[0].variables;
  EXPECT_EQ(vars.at("$a").name(), "uint64");
  EXPECT_EQ(vars.at("$b").name(), "int64");
  EXPECT_EQ(vars.at("$c").name(), "uint64");
  EXPECT_EQ(vars.at("$d").name(), "uint64");
}

TEST(TypeChecker, IntervalPeriods) {
  auto c = check("interval:ms:250 { exit(); } interval:s:2 { exit(); }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.probes[0].points[0].desc.period, 250000000u);
  EXPECT_EQ(c.semantic.probes[1].points[0].desc.period, 2000000000u);
  EXPECT_EQ(c.semantic.probes[1].points[0].desc.kind, ProbeKind::Interval);
}

TEST(TypeCheckerDiagnostics, UnknownFunctionWithHint) {
  EXPECT_EQ(check("BEGIN { @x = cuont(); }").diagnostics,
            "test.ht:1:14-18: error: unknown function 'cuont'\n"
            "BEGIN { @x = cuont(); }\n"
            "             ^~~~~\n"
            "hint: did you mean 'count'?\n");
}

TEST(TypeCheckerDiagnostics, UnknownBuiltinWithHint) {
  EXPECT_EQ(check("BEGIN { printf(\"%d\\n\", pdi); }").diagnostics,
            "test.ht:1:24-26: error: unknown builtin 'pdi'\n"
            "BEGIN { printf(\"%d\\n\", pdi); }\n"
            "                       ^~~\n"
            "hint: did you mean 'pid'?\n");
}

TEST(TypeCheckerDiagnostics, MapKeyConflictPointsAtBothUses) {
  EXPECT_EQ(check("BEGIN { @m[1] = count(); }\nEND { @m[\"a\"] = count(); }").diagnostics,
            "test.ht:2:7-13: error: map @m used with key string[8], but it was "
            "first used with key int64\n"
            "END { @m[\"a\"] = count(); }\n"
            "      ^~~~~~~\n"
            "test.ht:1:9-13: note: first used here\n"
            "BEGIN { @m[1] = count(); }\n"
            "        ^~~~~\n");
}

TEST(TypeCheckerDiagnostics, ValueKindConflict) {
  EXPECT_EQ(check("BEGIN { @m = count(); @m = 5; }").diagnostics,
            "test.ht:1:28: error: map @m is assigned a plain value, but it "
            "already holds count()\n"
            "BEGIN { @m = count(); @m = 5; }\n"
            "                           ^\n"
            "test.ht:1:14-20: note: first assigned here\n"
            "BEGIN { @m = count(); @m = 5; }\n"
            "             ^~~~~~~\n");
}

TEST(TypeCheckerDiagnostics, RetvalOutsideReturnProbe) {
  EXPECT_EQ(check("tracepoint:syscalls:sys_enter_openat { @ = retval; }").diagnostics,
            "test.ht:1:44-49: error: builtin 'retval' is not available in probe "
            "'tracepoint:syscalls:sys_enter_openat'\n"
            "tracepoint:syscalls:sys_enter_openat { @ = retval; }\n"
            "                                           ^~~~~~\n"
            "hint: retval is available in kretprobe, uretprobe and fexit probes\n");
}

TEST(TypeCheckerDiagnostics, ArgsOutsideTracepoint) {
  EXPECT_EQ(check("BEGIN { @ = args->x; }").diagnostics,
            "test.ht:1:13-16: error: builtin 'args' is not available in probe "
            "'BEGIN'\n"
            "BEGIN { @ = args->x; }\n"
            "            ^~~~\n"
            "hint: args is available in tracepoint, fentry and fexit probes\n");
}

TEST(TypeCheckerDiagnostics, UnknownTracepointFieldListsFields) {
  std::string d = check("tracepoint:syscalls:sys_enter_openat { @ = args->flag; }").diagnostics;
  EXPECT_EQ(d.substr(0, d.find('\n')),
            "test.ht:1:50-53: error: tracepoint syscalls:sys_enter_openat has no "
            "field 'flag'");
  EXPECT_NE(d.find("hint: did you mean 'flags'?\n"), std::string::npos) << d;
  EXPECT_NE(d.find("hint: its fields are: __syscall_nr, dfd, filename, flags, mode\n"),
            std::string::npos) << d;
}

TEST(TypeCheckerDiagnostics, PrintfArgumentCount) {
  EXPECT_EQ(check("BEGIN { printf(\"%d %d\\n\", 1); }").diagnostics,
            "test.ht:1:9-28: error: printf(): the format has 2 conversions but 1 "
            "argument is given\n"
            "BEGIN { printf(\"%d %d\\n\", 1); }\n"
            "        ^~~~~~~~~~~~~~~~~~~~\n");
}

TEST(TypeCheckerDiagnostics, DivisionByConstantZero) {
  EXPECT_EQ(check("BEGIN { @ = 5 / 0; }").diagnostics,
            "test.ht:1:17: error: division by zero\n"
            "BEGIN { @ = 5 / 0; }\n"
            "                ^\n");
}

TEST(TypeCheckerDiagnostics, MissingXenTracepointSaysNotAXenGuest) {
  EXPECT_EQ(check("tracepoint:xen:xen_mc_entry { @ = count(); }").diagnostics,
            "test.ht:1:1-27: error: tracepoint category 'xen' does not exist on "
            "this kernel\n"
            "tracepoint:xen:xen_mc_entry { @ = count(); }\n"
            "^~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
            "hint: this kernel is not a Xen guest: tracepoint category xen does "
            "not exist\n");
}

TEST(TypeCheckerDiagnostics, UnknownProbeType) {
  EXPECT_EQ(check("tracepiont:a:b { exit(); }").diagnostics,
            "test.ht:1:1-14: error: unknown probe type 'tracepiont'\n"
            "tracepiont:a:b { exit(); }\n"
            "^~~~~~~~~~~~~~\n"
            "hint: did you mean 'tracepoint'?\n");
}

TEST(TypeCheckerDiagnostics, AggregationMustBeAssigned) {
  EXPECT_EQ(check("BEGIN { count(); }").diagnostics,
            "test.ht:1:9-13: error: count() must be assigned to a map\n"
            "BEGIN { count(); }\n"
            "        ^~~~~\n"
            "hint: e.g. @x = count(...)\n");
}

TEST(TypeCheckerDiagnostics, SeveralErrorsAreAllReported) {
  std::string d = check("BEGIN { @a = foo(); @b = bar(); }").diagnostics;
  EXPECT_NE(d.find("unknown function 'foo'"), std::string::npos);
  EXPECT_NE(d.find("unknown function 'bar'"), std::string::npos);
}

} // namespace
} // namespace hvt
