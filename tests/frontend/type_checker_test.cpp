// Semantic passes: inferred types and golden diagnostics (exact text,
// including the underline), one test per error kind.
#include "btf_types.h"
#include "frontend/parser.h"
#include "passes/semantic.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace hvt {
namespace {

struct Checked {
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;
  std::string diagnostics;
};

// Tests see no BPFTRACE_* environment variables unless they ask to.
SemanticOptions test_options() {
  SemanticOptions options;
  options.read_environment = false;
  return options;
}

Checked check(const std::string &text,
              const SemanticOptions &options = test_options()) {
  Checked out;
  out.semantic.options = options;
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

// A Xen tracepoint hvt ships a format for (scripts/formats) compiles on any
// kernel and fails at attach time; one it does not ship fails here.
TEST(TypeCheckerDiagnostics, MissingXenTracepointSaysNotAXenGuest) {
  EXPECT_EQ(
      check("tracepoint:xen:xen_no_event { @ = count(); }").diagnostics,
      "test.ht:1:1-27: error: tracepoint category 'xen' does not exist on "
      "this kernel\n"
      "tracepoint:xen:xen_no_event { @ = count(); }\n"
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

// ---------------------------------------------------------------------------
// The language: types of builtins, functions and literals (bpftrace's).

// The type of `expr` as seen through `$v = expr` in BEGIN.
std::string type_of(const std::string &expr,
                    const SemanticOptions &options = test_options()) {
  auto c = check("BEGIN { $v = " + expr + "; }", options);
  if (!c.diagnostics.empty())
    return "error: " + c.diagnostics;
  return c.semantic.probes[0].variables.at("$v").name();
}

TEST(TypeChecker, IntegerLiteralsAreInt64LikeBpftrace) {
  EXPECT_EQ(type_of("0xffffffffffffffff"), "int64");
  EXPECT_EQ(type_of("1e3"), "int64");
  EXPECT_EQ(type_of("-(uint64)3"), "uint64"); // negation keeps the sign
  EXPECT_EQ(type_of("-5"), "int64");
  EXPECT_EQ(type_of("(uint64)1 - 2"), "uint64");
  EXPECT_EQ(type_of("(int8)1 + (int16)2"), "int64");
  EXPECT_EQ(type_of("~(uint32)0"), "uint64");
  EXPECT_EQ(type_of("!5"), "uint64");
}

TEST(TypeChecker, BuiltinTypes) {
  EXPECT_EQ(type_of("elapsed"), "uint64");
  EXPECT_EQ(type_of("cgroup"), "uint64");
  EXPECT_EQ(type_of("curtask"), "uint64");
  EXPECT_EQ(type_of("username"), "username");
  EXPECT_EQ(type_of("kstack"), "kstack");
  EXPECT_EQ(type_of("ustack"), "ustack");
  EXPECT_EQ(type_of("probe"), "string[8]");
  auto c = check("BEGIN { @k = kstack; @u = ustack(perf, 3); }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@k")->value.size, kKStackSize);
  EXPECT_EQ(c.semantic.find_map("@u")->value.size, kUStackSize);
}

TEST(TypeChecker, CpidIsTheChildPid) {
  SemanticOptions options = test_options();
  options.child_pid = 1234;
  EXPECT_EQ(type_of("cpid", options), "uint64");
}

TEST(TypeChecker, FuncNamesKernelOrUserFunctions) {
  // This test binary is an ELF file with a main() to probe.
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  auto c = check("uprobe:" + self + ":main { @f = func; }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@f")->value.kind, TypeKind::Usym);
  EXPECT_EQ(c.semantic.find_map("@f")->value.size, kUsymSize);
}

TEST(TypeChecker, FunctionTypes) {
  EXPECT_EQ(type_of("ksym(0)"), "ksym");
  EXPECT_EQ(type_of("usym(0)"), "usym");
  EXPECT_EQ(type_of("kaddr(\"vfs_read\")"), "uint64");
  EXPECT_EQ(type_of("ntop(0x0100007f)"), "inet");
  EXPECT_EQ(type_of("ntop(10, 0)"), "inet");
  EXPECT_EQ(type_of("strftime(\"%H:%M\", nsecs)"), "timestamp");
  EXPECT_EQ(type_of("str(arg0)").substr(0, 5), "error"); // no arg0 in BEGIN
  auto c = check("BEGIN { $s = strftime(\"%H:%M:%S\", nsecs); }");
  ASSERT_EQ(c.diagnostics, "");
  // {nanoseconds, "%H:%M:%S" with its NUL padded to 16}
  EXPECT_EQ(c.semantic.probes[0].variables.at("$s").size, 8u + 16u);
}

// bswap(): unsigned, of its argument's width; a variable remembers the
// width it was first assigned before widening to 64 bits, as in bpftrace.
TEST(TypeChecker, BswapKeepsTheWidthItSwaps) {
  auto c = check("BEGIN { $p = (uint16)1; $q = (int8)1; $a = bswap($p); "
                 "$b = bswap((uint32)1); $c = bswap(1); $d = bswap($q); "
                 "$e = bswap($p + 1); }");
  ASSERT_EQ(c.diagnostics, "");
  std::vector<std::string> types;
  for (const auto &stmt : c.program->probes[0].body)
    if (auto *assign = stmt->template as<ast::AssignVar>())
      types.push_back(assign->value->type.name());
  EXPECT_EQ(types,
            (std::vector<std::string>{"uint16", "int8", "uint16", "uint32",
                                      "uint64", "uint8", "uint64"}));
  EXPECT_EQ(check("BEGIN { $s = bswap(\"ab\"); }").diagnostics,
            "test.ht:1:20-23: error: bswap() needs an integer, not string[8]\n"
            "BEGIN { $s = bswap(\"ab\"); }\n"
            "                   ^~~~\n");
}

// buf(): a constant length sizes the buffer (max_strlen at most, with a
// warning as in bpftrace); any other length gets max_strlen bytes.
TEST(TypeChecker, BufSizes) {
  auto size_of = [](const std::string &expr) {
    auto c = check("BEGIN { $v = " + expr + "; }");
    return c.diagnostics.empty()
               ? std::to_string(c.semantic.probes[0].variables.at("$v").size)
               : c.diagnostics;
  };
  EXPECT_EQ(size_of("buf(0, 5)"), "16"); // the length word + 5 bytes, padded
  EXPECT_EQ(size_of("buf(0, 64)"), "72");
  EXPECT_EQ(size_of("buf(0, nsecs)"), "72"); // max_strlen
  EXPECT_EQ(size_of("buf(0, 65)"),
            "test.ht:1:14-23: warning: buf() length is too long and will be "
            "shortened to 64 bytes\n"
            "BEGIN { $v = buf(0, 65); }\n"
            "             ^~~~~~~~~~\n"
            "hint: raise max_strlen (BPFTRACE_STRLEN) for longer buffers\n");
  EXPECT_EQ(check("BEGIN { @a = buf(0, 4); @a = buf(0, 20); }")
                .semantic.find_map("@a")
                ->value.size,
            32u); // widens to the larger
  EXPECT_EQ(size_of("buf(0, 0)"),
            "test.ht:1:21: error: buf() length must be at least 1\n"
            "BEGIN { $v = buf(0, 0); }\n"
            "                    ^\n");
  EXPECT_EQ(size_of("buf(0)"),
            "test.ht:1:18: error: buf() needs a length unless its argument is "
            "an array, not int64\n"
            "BEGIN { $v = buf(0); }\n"
            "                 ^\n"
            "hint: e.g. buf(arg1, 16) for 16 bytes at arg1\n");
}

TEST(TypeCheckerDiagnostics, PercentRIsForBuffersOnly) {
  EXPECT_EQ(check("BEGIN { printf(\"%r %s\", 1, buf(0, 1)); }").diagnostics,
            "test.ht:1:25: error: printf(): %r expects a buf() value, but the "
            "argument is int64\n"
            "BEGIN { printf(\"%r %s\", 1, buf(0, 1)); }\n"
            "                        ^\n"
            "test.ht:1:28-36: error: printf(): %s cannot print a buffer; use "
            "%r\n"
            "BEGIN { printf(\"%r %s\", 1, buf(0, 1)); }\n"
            "                           ^~~~~~~~~\n");
}

TEST(TypeChecker, StrftimeValuesWidenToTheLongestFormat) {
  auto c = check("BEGIN { @t = strftime(\"%H\", nsecs); "
                 "@t = strftime(\"%Y-%m-%d %H:%M\", nsecs); }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@t")->value.size, 8u + 16u);
}

TEST(TypeChecker, StrOfPositionalIsItsTextCutToMaxStrlen) {
  SemanticOptions options = test_options();
  options.positional = {"abcdefghijkl", "12"};
  EXPECT_EQ(type_of("str($1)", options), "string[16]"); // 13 bytes, padded
  EXPECT_EQ(type_of("str($1, 3)", options), "string[8]");
  EXPECT_EQ(type_of("str($2)", options), "string[8]"); // numbers too
  EXPECT_EQ(type_of("str($3)", options), "string[8]"); // missing: ""
  EXPECT_EQ(type_of("$2 + 1", options), "int64");
  options.string_size = 8;
  EXPECT_EQ(type_of("str($1)", options), "string[8]");
}

TEST(TypeChecker, AggregationsReadInAProbeHaveTheirValueType) {
  auto c = check("BEGIN { @c = count(); @s = sum((uint32)5); @n = min(-1); "
                 "@a = avg(3); $c = @c; $s = @s; $n = @n; $a = @a; }");
  ASSERT_EQ(c.diagnostics, "");
  const auto &vars = c.semantic.probes[0].variables;
  EXPECT_EQ(vars.at("$c").name(), "uint64");
  EXPECT_EQ(vars.at("$s").name(), "uint64");
  EXPECT_EQ(vars.at("$n").name(), "int64");
  EXPECT_EQ(vars.at("$a").name(), "int64");
}

TEST(TypeChecker, DeleteWithKeyArgumentChecksTheKey) {
  auto c = check("BEGIN { @m[1, \"a\"] = 5; delete(@m, (2, \"b\")); }");
  EXPECT_EQ(c.diagnostics, "");
}

TEST(TypeChecker, ConfigBlockSetsLimitsAndStackMode) {
  auto c = check("config = { max_strlen = 16; BPFTRACE_MAX_MAP_KEYS = 100; "
                 "stack_mode = perf } BEGIN { @m[1] = str(0); }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.options.string_size, 16u);
  EXPECT_EQ(c.semantic.options.map_size, 100u);
  EXPECT_EQ(c.semantic.options.stack_mode, StackMode::Perf);
  EXPECT_EQ(c.semantic.find_map("@m")->max_entries, 100u);
  EXPECT_EQ(c.semantic.find_map("@m")->value, Type::string(16));
}

TEST(TypeChecker, EnvironmentOverridesConfigBlockLikeBpftrace) {
  setenv("BPFTRACE_STRLEN", "24", 1);
  setenv("BPFTRACE_MAP_KEYS_MAX", "77", 1);
  SemanticOptions options;
  options.read_environment = true;
  auto c = check("config = { max_strlen = 16 } BEGIN { @m[1] = 1; }", options);
  unsetenv("BPFTRACE_STRLEN");
  unsetenv("BPFTRACE_MAP_KEYS_MAX");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.options.string_size, 24u);
  EXPECT_EQ(c.semantic.find_map("@m")->max_entries, 77u);
}

TEST(TypeChecker, StackSpecOfBuiltinAndCalls) {
  SemanticOptions options = test_options();
  options.stack_mode = StackMode::Perf;
  auto c = check(
      "BEGIN { @a = kstack(raw, 5); @b = ustack(9); @c = kstack(bpftrace); }");
  ASSERT_EQ(c.diagnostics, "");
  auto call = [&](size_t stmt) {
    auto &assign = *c.program->probes[0].body[stmt]->as<ast::AssignMap>();
    return assign.value->as<ast::Call>();
  };
  StackSpec a = stack_spec(call(0), options);
  EXPECT_EQ(a.limit, 5u);
  EXPECT_EQ(a.mode, StackMode::Raw);
  StackSpec b = stack_spec(call(1), options);
  EXPECT_EQ(b.limit, 9u);
  EXPECT_EQ(b.mode, StackMode::Perf); // the configured default
  EXPECT_EQ(stack_spec(call(2), options).mode, StackMode::Bpftrace);
  StackSpec builtin = stack_spec(nullptr, options);
  EXPECT_EQ(builtin.limit, kDefaultStackLimit);
  EXPECT_EQ(builtin.mode, StackMode::Perf);
}

TEST(TypeChecker, DeclaredMapsKeepTheirStorageAndSize) {
  auto c = check(
      "let @a = percpuarray(8); let @l = lruhash(3); "
      "let @p = percpulruhash(5); "
      "BEGIN { @a[cpu] = nsecs; @l[pid] = 1; @p[1] = count(); @h[1] = 1; }");
  ASSERT_EQ(c.diagnostics, "");
  const MapDesc *a = c.semantic.find_map("@a");
  EXPECT_EQ(a->storage, MapStorage::PercpuArray);
  EXPECT_EQ(a->max_entries, 8u);
  EXPECT_EQ(a->key, Type::integer(4, false)); // BPF array keys are u32
  EXPECT_EQ(c.semantic.find_map("@l")->storage, MapStorage::LruHash);
  EXPECT_EQ(c.semantic.find_map("@l")->max_entries, 3u);
  EXPECT_EQ(c.semantic.find_map("@p")->storage, MapStorage::PercpuLruHash);
  EXPECT_EQ(c.semantic.find_map("@h")->storage, MapStorage::Hash);
  EXPECT_EQ(c.semantic.find_map("@h")->max_entries, 4096u);
}

// ---------------------------------------------------------------------------
// The language: golden diagnostics, one per error kind.

TEST(LanguageDiagnostics, CpidWithoutChild) {
  EXPECT_EQ(
      check("BEGIN { @ = cpid; }").diagnostics,
      "test.ht:1:13-16: error: cpid cannot be used without a child command\n"
      "BEGIN { @ = cpid; }\n"
      "            ^~~~\n"
      "hint: start one with -c 'COMMAND'\n");
}

TEST(LanguageDiagnostics, FuncOutsideFunctionProbes) {
  EXPECT_EQ(check("BEGIN { @ = func; }").diagnostics,
            "test.ht:1:13-16: error: builtin 'func' is not available in probe "
            "'BEGIN'\n"
            "BEGIN { @ = func; }\n"
            "            ^~~~\n"
            "hint: func is available in kprobe, kretprobe, uprobe, uretprobe, "
            "fentry and fexit probes\n");
}

TEST(LanguageDiagnostics, UnknownStackModeWithHint) {
  EXPECT_EQ(check("BEGIN { @ = kstack(pref, 3); }").diagnostics,
            "test.ht:1:20-23: error: unknown stack mode 'pref'\n"
            "BEGIN { @ = kstack(pref, 3); }\n"
            "                   ^~~~\n"
            "hint: did you mean 'perf'?\n"
            "hint: stack modes are bpftrace, perf and raw\n");
}

TEST(LanguageDiagnostics, StackLimitOutOfRange) {
  std::string d = check("BEGIN { @ = ustack(0); }").diagnostics;
  EXPECT_EQ(d.substr(0, d.find('\n')),
            "test.ht:1:20: error: ustack() takes a stack mode (bpftrace, perf, "
            "raw) and a constant frame limit from 1 to 127");
}

TEST(LanguageDiagnostics, KaddrOfUnknownSymbol) {
  EXPECT_EQ(
      check("BEGIN { @ = kaddr(\"no_such_symbol\"); }").diagnostics,
      "test.ht:1:19-34: error: kaddr(): no kernel symbol 'no_such_symbol'\n"
      "BEGIN { @ = kaddr(\"no_such_symbol\"); }\n"
      "                  ^~~~~~~~~~~~~~~~\n"
      "hint: /proc/kallsyms lists this kernel's symbols\n");
}

TEST(LanguageDiagnostics, LiteralArgumentRequired) {
  EXPECT_EQ(
      check("BEGIN { $f = \"%H\"; @ = strftime($f, nsecs); }").diagnostics,
      "test.ht:1:33-34: error: strftime() needs a string literal here\n"
      "BEGIN { $f = \"%H\"; @ = strftime($f, nsecs); }\n"
      "                                ^~\n");
}

TEST(LanguageDiagnostics, HistogramReadInProbe) {
  EXPECT_EQ(
      check("BEGIN { @h = hist(1); if (@h > 1) { exit(); } }").diagnostics,
      "test.ht:1:27-28: error: cannot read hist() map @h in a probe\n"
      "BEGIN { @h = hist(1); if (@h > 1) { exit(); } }\n"
      "                          ^~\n"
      "hint: only count(), sum(), min(), max() and avg() maps can be read "
      "in a probe\n");
}

TEST(LanguageDiagnostics, StatementHasNoValue) {
  EXPECT_EQ(
      check("BEGIN { $x = join(0); }").diagnostics,
      "test.ht:1:14-20: error: cannot assign to $x: join() returns no value\n"
      "BEGIN { $x = join(0); }\n"
      "             ^~~~~~~\n");
  EXPECT_EQ(check("BEGIN { if (time()) { } }").diagnostics,
            "test.ht:1:13-18: error: condition must be an integer, not a "
            "statement without a value\n"
            "BEGIN { if (time()) { } }\n"
            "            ^~~~~~\n");
}

// Found by the fuzzer: a value-less call as an operand or an argument
// reached codegen, which had no value to compute with (a crash).
TEST(LanguageDiagnostics, CallWithoutValueAsOperandOrArgument) {
  EXPECT_EQ(check("BEGIN {~printf(\"a\"); }").diagnostics,
            "test.ht:1:9-19: error: printf() returns no value\n"
            "BEGIN {~printf(\"a\"); }\n"
            "        ^~~~~~~~~~~\n");
  for (const char *text :
       {"BEGIN { printf(\"a\") + 1; }", "BEGIN { @x = 1; -clear(@x); }",
        "BEGIN { printf(\"%d\\n\", printf(\"x\")); }",
        "BEGIN { str(exit()); }", "BEGIN { printf(\"a\") == 1; }"}) {
    auto result = check(text);
    EXPECT_NE(result.diagnostics.find("returns no value"), std::string::npos)
        << text << "\n" << result.diagnostics;
  }
  // As a statement of its own, a call needs no value.
  EXPECT_EQ(check("BEGIN { printf(\"a\"); exit(); }").diagnostics, "");
}

TEST(LanguageDiagnostics, NtopOfString) {
  EXPECT_EQ(check("BEGIN { @ = ntop(\"x\"); }").diagnostics,
            "test.ht:1:18-20: error: ntop() needs an integer or a 4 or 16 byte "
            "array, not string[8]\n"
            "BEGIN { @ = ntop(\"x\"); }\n"
            "                 ^~~\n");
}

TEST(LanguageDiagnostics, UnknownFunctionSuggestsNewOnes) {
  EXPECT_EQ(check("BEGIN { @ = strftme(\"%H\", nsecs); }").diagnostics,
            "test.ht:1:13-19: error: unknown function 'strftme'\n"
            "BEGIN { @ = strftme(\"%H\", nsecs); }\n"
            "            ^~~~~~~\n"
            "hint: did you mean 'strftime'?\n");
}

TEST(LanguageDiagnostics, UnknownConfigSetting) {
  EXPECT_EQ(check("config = { max_strln = 8 } BEGIN { exit(); }").diagnostics,
            "test.ht:1:12-24: error: unknown config setting 'max_strln'\n"
            "config = { max_strln = 8 } BEGIN { exit(); }\n"
            "           ^~~~~~~~~~~~~\n"
            "hint: did you mean 'max_strlen'?\n"
            "hint: hvt understands max_map_keys, max_probes, max_strlen and "
            "stack_mode\n");
}

TEST(LanguageDiagnostics, ConfigValueOutOfRange) {
  EXPECT_EQ(
      check("config = { max_strlen = 500 } BEGIN { exit(); }").diagnostics,
      "test.ht:1:12-27: error: max_strlen must be a number from 1 to 200, "
      "not '500'\n"
      "config = { max_strlen = 500 } BEGIN { exit(); }\n"
      "           ^~~~~~~~~~~~~~~~\n");
}

TEST(LanguageDiagnostics, ConfigWithoutEffectIsAWarning) {
  auto c = check("config = { log_size = 100 } BEGIN { exit(); }");
  EXPECT_EQ(c.diagnostics,
            "test.ht:1:12-25: warning: config 'log_size' has no effect in hvt\n"
            "config = { log_size = 100 } BEGIN { exit(); }\n"
            "           ^~~~~~~~~~~~~~\n");
}

TEST(LanguageDiagnostics, BadEnvironmentVariable) {
  setenv("BPFTRACE_STRLEN", "lots", 1);
  SemanticOptions options;
  options.read_environment = true;
  std::string d = check("BEGIN { exit(); }", options).diagnostics;
  unsetenv("BPFTRACE_STRLEN");
  EXPECT_NE(d.find("error: environment variable BPFTRACE_STRLEN must be a "
                   "number from 1 to 200, not 'lots'"),
            std::string::npos)
      << d;
}

TEST(LanguageDiagnostics, AggregationInSharedStorage) {
  EXPECT_EQ(check("let @c = hash(10);\nBEGIN { @c = count(); }").diagnostics,
            "test.ht:1:1-18: error: map @c holds count(), which needs per-CPU "
            "storage\n"
            "let @c = hash(10);\n"
            "^~~~~~~~~~~~~~~~~~\n"
            "test.ht:2:14-20: note: assigned here\n"
            "BEGIN { @c = count(); }\n"
            "             ^~~~~~~\n"
            "hint: declare it with percpuhash, percpulruhash or percpuarray\n");
}

TEST(LanguageDiagnostics, ArrayMapNeedsIntegerKey) {
  EXPECT_EQ(
      check("let @a = percpuarray(4);\nBEGIN { @a[\"x\"] = 1; }").diagnostics,
      "test.ht:1:1-24: error: array map @a must be indexed by one integer, "
      "e.g. @a[0]\n"
      "let @a = percpuarray(4);\n"
      "^~~~~~~~~~~~~~~~~~~~~~~~\n"
      "test.ht:2:9-15: note: used here\n"
      "BEGIN { @a[\"x\"] = 1; }\n"
      "        ^~~~~~~\n");
}

TEST(LanguageDiagnostics, HistogramInArrayMap) {
  std::string d =
      check("let @a = percpuarray(4);\nBEGIN { @a[1] = hist(5); }").diagnostics;
  EXPECT_EQ(d.substr(0, d.find('\n')),
            "test.ht:1:1-24: error: map @a holds hist(), which an array map "
            "cannot store");
}

// ------------------------------------------------ kernel structs (BTF)

class KernelStructs : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
      GTEST_SKIP() << "the kernel has no BTF";
  }
  // The first line of the diagnostics of `text`.
  static std::string first_error(const std::string &text) {
    std::string d = check(text).diagnostics;
    return d.substr(0, d.find('\n'));
  }
};

TEST_F(KernelStructs, CastGivesATypedPointerAndMembersTheirTypes) {
  auto c = check("kprobe:tcp_connect { $sk = (struct sock *)arg0; "
                 "$f = $sk->__sk_common.skc_family; "
                 "@[$sk->__sk_common.skc_num] = count(); "
                 "@d = $sk->__sk_common.skc_daddr; }");
  ASSERT_EQ(c.diagnostics, "");
  const auto &vars = c.semantic.probes[0].variables;
  EXPECT_EQ(vars.at("$sk").name(), "uint64"); // a pointer is a u64
  EXPECT_EQ(vars.at("$f").name(), "uint64");  // unsigned short, widened
  EXPECT_EQ(c.semantic.find_map("@")->key.name(), "uint32"); // a narrow key
  EXPECT_EQ(c.semantic.find_map("@d")->value.name(), "uint64");
}

TEST_F(KernelStructs, MemberReadsCarryOffsetSizeAndKernelType) {
  auto program =
      check("kprobe:f { @ = ((struct task_struct *)arg0)->real_parent->pid; }")
          .program;
  auto &assign = *program->probes[0].body[0]->as<ast::AssignMap>();
  auto &pid = *assign.value->as<ast::Field>();
  EXPECT_TRUE(pid.read.active);
  EXPECT_EQ(pid.read.size, 4u); // pid_t
  EXPECT_EQ(pid.type.name(), "int32");
  auto &parent = *pid.object->as<ast::Field>();
  EXPECT_EQ(parent.read.size, 8u); // a pointer member
  EXPECT_GT(parent.read.offset, 0u);
  EXPECT_EQ(parent.ktype.pointers, 1u);
  EXPECT_EQ(parent.ktype, pid.object->as<ast::Field>()->object->ktype);
}

TEST_F(KernelStructs, CurtaskIsATaskStructPointer) {
  auto c = check("tracepoint:sched:sched_switch { @[curtask->comm] = count(); "
                 "@p = curtask->pid; @c = curtask; }");
  ASSERT_EQ(c.diagnostics, "");
  EXPECT_EQ(c.semantic.find_map("@")->key, Type::string(16)); // like comm
  EXPECT_EQ(c.semantic.find_map("@p")->value.name(), "int64");
  EXPECT_EQ(c.semantic.find_map("@c")->value.name(), "uint64");
}

TEST_F(KernelStructs, BitfieldsAndArrayElements) {
  auto program =
      check("kprobe:f { $sk = (struct sock *)arg0; @a = $sk->sk_no_check_tx; "
            "@b = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[3]; }")
          .program;
  ASSERT_NE(program, nullptr);
  auto &bit = *program->probes[0]
                   .body[1]
                   ->as<ast::AssignMap>()
                   ->value->as<ast::Field>();
  EXPECT_EQ(bit.read.bit_size, 1u);
  EXPECT_LE(bit.read.size, 8u);
  auto &element = *program->probes[0]
                       .body[2]
                       ->as<ast::AssignMap>()
                       ->value->as<ast::Index>();
  EXPECT_TRUE(element.read.active);
  EXPECT_EQ(element.read.offset, 3u); // from the array's address
  EXPECT_EQ(element.read.size, 1u);
}

TEST_F(KernelStructs, UnknownStructSuggestsAName) {
  EXPECT_EQ(check("kprobe:f { @ = ((struct sok *)arg0)->x; }").diagnostics,
            "test.ht:1:17-34: error: unknown struct 'sok'\n"
            "kprobe:f { @ = ((struct sok *)arg0)->x; }\n"
            "                ^~~~~~~~~~~~~~~~~~\n"
            "hint: the kernel's BTF has no struct of that name\n"
            "hint: did you mean 'struct sock'?\n");
}

TEST_F(KernelStructs, UnknownMemberSuggestsAName) {
  EXPECT_EQ(
      check("kprobe:f { @ = ((struct sock *)arg0)->sk_prtocol; }").diagnostics,
      "test.ht:1:39-48: error: struct sock has no member 'sk_prtocol'\n"
      "kprobe:f { @ = ((struct sock *)arg0)->sk_prtocol; }\n"
      "                                      ^~~~~~~~~~\n"
      "hint: did you mean 'sk_protocol'?\n");
}

TEST_F(KernelStructs, ArrowAndDotMustMatchThePointer) {
  EXPECT_EQ(first_error("kprobe:f { @ = arg0->pid; }"),
            "test.ht:1:16-24: error: '->' needs a pointer to a kernel struct, "
            "not uint64");
  EXPECT_EQ(first_error("kprobe:f { @ = curtask.pid; }"),
            "test.ht:1:16-26: error: '.' needs a struct, but this is a pointer "
            "(struct task_struct *)");
  EXPECT_EQ(
      first_error("kprobe:f { @ = curtask->se->load; }"),
      "test.ht:1:16-32: error: '->' needs a pointer, but this is a struct "
      "sched_entity");
}

TEST_F(KernelStructs, StructValuesCannotBeStoredAndArraysNeedConstantIndexes) {
  EXPECT_EQ(first_error("kprobe:f { $s = curtask->se; }"),
            "test.ht:1:17-27: error: struct sched_entity is a struct and "
            "cannot be used as a value");
  EXPECT_EQ(check("kprobe:f { @[curtask->comm, curtask->se] = count(); }")
                .diagnostics,
            "test.ht:1:29-39: error: struct sched_entity is a struct and "
            "cannot be used as a value\n"
            "kprobe:f { @[curtask->comm, curtask->se] = count(); }\n"
            "                            ^~~~~~~~~~~\n"
            "hint: read one of its members with '.'\n");
  EXPECT_EQ(first_error("kprobe:f { @ = curtask->comm[2]; }"),
            "test.ht:1:16-31: error: cannot index a value of type string[16] "
            "with []");
  EXPECT_EQ(
      first_error("kprobe:f { $sk = (struct sock *)arg0; "
                  "@ = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[pid]; }"),
      "test.ht:1:88-90: error: the index of a kernel array must be a "
      "constant");
  EXPECT_EQ(
      first_error("kprobe:f { $sk = (struct sock *)arg0; "
                  "@ = $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8[16]; }"),
      "test.ht:1:88-89: error: index 16 is out of bounds for __u8[16]");
}

TEST_F(KernelStructs, NtopReadsFourAndSixteenByteArrays) {
  auto c = check("kprobe:f { $sk = (struct sock *)arg0; "
                 "printf(\"%s %s\\n\", ntop($sk->__sk_common.skc_daddr), "
                 "ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8)); }");
  EXPECT_EQ(c.diagnostics, "");
}

TEST_F(KernelStructs, PointerArithmeticStepsByThePointeeSize) {
  auto program =
      check("kprobe:f { @ = ((struct task_struct *)arg0 + 2)->pid; }").program;
  ASSERT_NE(program, nullptr);
  auto &pid = *program->probes[0]
                   .body[0]
                   ->as<ast::AssignMap>()
                   ->value->as<ast::Field>();
  auto &sum = *pid.object->as<ast::Binary>();
  EXPECT_TRUE(sum.pointer_scaled);
  auto &offset = *sum.rhs->as<ast::Binary>(); // 2 * sizeof(task_struct)
  EXPECT_EQ(offset.op, ast::BinaryOp::Mul);
  EXPECT_EQ(offset.rhs->as<ast::IntegerLit>()->value,
            btf::Btf::vmlinux()->size_of(
                btf::Btf::vmlinux()->find_struct("task_struct")));
}

// Addresses keep a mark in their type, so that they print as bpftrace
// prints them (hex keys, signed values): curtask, struct pointer casts and
// members, `ptr + n`, a tracepoint's pointer field; not a cast to uint64.
TEST_F(KernelStructs, AddressesAreMarkedForPrinting) {
  auto c = check("tracepoint:syscalls:sys_enter_read { @k[curtask] = count(); "
                 "@b[args->buf] = count(); @c = curtask->parent; "
                 "@d[(uint64)curtask, curtask + 1] = count(); "
                 "@e[args->fd, args->count] = count(); "
                 "$p = (struct task_struct *)args->count; @f = $p; "
                 "@g = ($p, 1); @h = $p->pid; "
                 "@t[pid > 1 ? curtask : curtask->parent] = count(); "
                 "@u[pid > 1 ? curtask : 0] = count(); }");
  ASSERT_EQ(c.diagnostics, "");
  auto map = [&](const char *name) { return *c.semantic.find_map(name); };
  EXPECT_TRUE(map("@k").key.is_pointer);
  EXPECT_TRUE(map("@b").key.is_pointer);
  EXPECT_TRUE(map("@c").value.is_pointer);
  ASSERT_EQ(map("@d").key.fields.size(), 2u);
  EXPECT_FALSE(map("@d").key.fields[0].is_pointer);
  EXPECT_TRUE(map("@d").key.fields[1].is_pointer);
  ASSERT_EQ(map("@e").key.fields.size(), 2u);
  EXPECT_FALSE(map("@e").key.fields[0].is_pointer);
  EXPECT_FALSE(map("@e").key.fields[1].is_pointer);
  EXPECT_TRUE(map("@f").value.is_pointer);
  ASSERT_EQ(map("@g").value.fields.size(), 2u);
  EXPECT_TRUE(map("@g").value.fields[0].is_pointer);
  EXPECT_FALSE(map("@g").value.fields[1].is_pointer);
  EXPECT_FALSE(map("@h").value.is_pointer);
  EXPECT_FALSE(map("@k").value.is_pointer); // count()
  EXPECT_TRUE(map("@t").key.is_pointer);    // both branches addresses
  EXPECT_FALSE(map("@u").key.is_pointer);   // one of them a number
}

TEST_F(KernelStructs, EnumConstantsAndTracepointStructPointers) {
  auto c = check("tracepoint:syscalls:sys_enter_clock_nanosleep "
                 "/TCP_CLOSE == 7/ { @[args->rqtp->tv_sec] = count(); }");
  ASSERT_EQ(c.diagnostics, "");
  auto &probe = c.program->probes[0];
  EXPECT_EQ(
      *probe.predicate->as<ast::Binary>()->lhs->as<ast::Builtin>()->kernel_enum,
      7);
  auto &key =
      *probe.body[0]->as<ast::AssignMap>()->map->keys[0]->as<ast::Field>();
  EXPECT_TRUE(key.read.any_space); // a user or kernel pointer
  EXPECT_EQ(key.type.name(), "int64");
  EXPECT_EQ(first_error("BEGIN { @ = TCP_FIN_WAIT; }"),
            "test.ht:1:13-24: error: unknown builtin 'TCP_FIN_WAIT'");
}

} // namespace
} // namespace hvt
