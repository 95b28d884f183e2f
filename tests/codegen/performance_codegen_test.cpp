// Codegen optimizations of docs/performance.md, checked on the IR: one map
// lookup per value (map_read_cache.h) and where it must not apply, one
// bpf_get_current_pid_tgid() per program, and the log2 of hist() without
// ctlz.
#include "codegen/codegen.h"
#include "codegen/map_read_cache.h"
#include "driver/pipeline.h"
#include "frontend/parser.h"

#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <regex>
#include <sstream>

namespace hvt {
namespace {

// The IR before optimization, as codegen wrote it.
std::string ir_for(const std::string &text) {
  SourceFile source("perf.ht", text);
  Diagnostics diags;
  auto program = parse_program(source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(source);
  SemanticResult semantic;
  semantic.options.read_environment = false;
  resolve_attach_points(*program, diags, semantic);
  check_types(*program, diags, semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(source);
  CompiledProgram compiled;
  llvm::LLVMContext context;
  auto module = generate_ir(context, *program, semantic, source, compiled);
  std::string ir;
  llvm::raw_string_ostream os(ir);
  module->print(os, nullptr);
  return ir;
}

// The IR after LLVM's optimizations (what becomes the object).
std::string optimized_ir_for(const std::string &text) {
  SourceFile source("perf.ht", text);
  Diagnostics diags;
  std::ostringstream out;
  CompileOptions options;
  options.semantic.read_environment = false;
  options.codegen.dump_ir_optimized = &out;
  auto compiled = compile(source, options, diags);
  EXPECT_TRUE(compiled) << diags.render(source);
  return out.str();
}

// Programs that give the maps the tests read their types.
const std::string kStart =
    "tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; }\n";
const std::string kX = "END { @x[1] = 1; @x[2] = 2; }\n";

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size()))
    ++n;
  return n;
}

// bpf_map_lookup_elem(@m_NAME, ...) calls in the IR.
size_t lookups(const std::string &ir, const std::string &map) {
  return count(ir, "inttoptr (i64 1 to ptr)(ptr @m_" + map + ",");
}

TEST(MapReadSharing, PredicateAndBodyShareOneLookup) {
  std::string ir =
      ir_for(kStart + "tracepoint:raw_syscalls:sys_exit /@start[tid]/ {"
                      " @ns = hist(nsecs - @start[tid]);"
                      " delete(@start[tid]); }");
  EXPECT_EQ(lookups(ir, "start"), 1u) << ir;
}

TEST(MapReadSharing, AWriteInBetweenReadsAgain) {
  // ++ and += read the map themselves: one lookup more.
  for (auto [write, expected] :
       std::vector<std::pair<std::string, size_t>>{{"@x[1] = 7;", 2},
                                                   {"@x[1]++;", 3},
                                                   {"delete(@x[1]);", 2},
                                                   {"@x[2] += 1;", 3},
                                                   {"clear(@x);", 2}}) {
    std::string ir = ir_for(kX + "BEGIN { $a = @x[1]; " + write +
                            " $b = @x[1]; printf(\"%d %d\\n\", $a, $b); }");
    EXPECT_EQ(lookups(ir, "x"), expected) << write;
  }
}

TEST(MapReadSharing, ReadsInABranchAreNotReusedAfterIt) {
  std::string ir = ir_for(kX + "BEGIN { if (pid) { $a = @x[1]; } $b = @x[1]; "
                               "printf(\"%d\\n\", $b); }");
  EXPECT_EQ(lookups(ir, "x"), 2u);
  ir = ir_for(kX + "BEGIN { if (pid) { $a = @x[1]; } else { $a = @x[1]; } "
                   "printf(\"%d\\n\", $a); }");
  EXPECT_EQ(lookups(ir, "x"), 2u); // then and else: neither dominates
  ir = ir_for(kX + "BEGIN { $c = pid > 1 && @x[1] > 0; $d = @x[1]; "
                   "printf(\"%d %d\\n\", $c, $d); }");
  EXPECT_EQ(lookups(ir, "x"), 2u); // && may skip its right side
  ir = ir_for(kX + "BEGIN { $c = pid > 1 ? @x[1] : 0; $d = @x[1]; "
                   "printf(\"%d %d\\n\", $c, $d); }");
  EXPECT_EQ(lookups(ir, "x"), 2u);
}

TEST(MapReadSharing, AReadBeforeABranchServesTheBranch) {
  std::string ir = ir_for(kX + "BEGIN { $a = @x[1]; if ($a) { $b = @x[1]; "
                               "printf(\"%d\\n\", $b); } }");
  EXPECT_EQ(lookups(ir, "x"), 1u);
}

TEST(MapReadSharing, OnlyStableKeysShare) {
  std::string ir = ir_for(kX + "BEGIN { $a = @x[nsecs]; $b = @x[nsecs]; "
                               "printf(\"%d %d\\n\", $a, $b); }");
  EXPECT_EQ(lookups(ir, "x"), 2u);
  ir = ir_for(kX + "BEGIN { $k = 1; $a = @x[$k]; $k = 2; $b = @x[$k]; "
                   "printf(\"%d %d\\n\", $a, $b); }");
  EXPECT_EQ(lookups(ir, "x"), 2u);
  ir = ir_for("END { @y[1, \"a\"] = 1; }\n"
              "BEGIN { $a = @y[pid, comm]; $b = @y[pid, comm]; "
              "printf(\"%d %d\\n\", $a, $b); }");
  EXPECT_EQ(lookups(ir, "y"), 1u);
}

TEST(MapReadSharing, LoopBodiesReadAgain) {
  std::string ir =
      ir_for(kX + "BEGIN { $i = 0; while ($i < 3) { @x[1] = @x[1] + 1;"
                  " $i++; } printf(\"%d\\n\", @x[1]); }");
  // In the loop (written there) and after it.
  EXPECT_EQ(lookups(ir, "x"), 2u);
}

TEST(MapReadSharing, Fingerprints) {
  SourceFile source("f.ht", "BEGIN { @a[tid, 1, \"x\"] = @b[nsecs] + "
                            "@c[args] + @d; }");
  Diagnostics diags;
  auto program = parse_program(source, diags);
  ASSERT_TRUE(program) << diags.render(source);
  auto &assign = *program->probes[0].body[0]->as<ast::AssignMap>();
  EXPECT_EQ(MapReadCache::fingerprint(*assign.map), "@a[btid,i1,s1:x,]");
  auto &sum = *assign.value->as<ast::Binary>();
  auto &left = *sum.lhs->as<ast::Binary>();
  EXPECT_EQ(MapReadCache::fingerprint(*left.lhs->as<ast::Map>()), "");
  EXPECT_EQ(MapReadCache::fingerprint(*sum.rhs->as<ast::Map>()), "@d[]");
  std::set<std::string> written;
  EXPECT_TRUE(MapReadCache::written_maps(*program->probes[0].body[0], written));
  EXPECT_EQ(written, std::set<std::string>{"@a"});
}

TEST(HelperCalls, TidIsFetchedOncePerProgram) {
  std::string ir = optimized_ir_for(
      "tracepoint:raw_syscalls:sys_exit /@start[tid]/ {"
      " @start[tid] = 0;"
      " @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }");
  EXPECT_EQ(count(ir, "inttoptr (i64 14 to ptr)()"), 1u) << ir;
}

TEST(HistBucket, NoCtlzExpansion) {
  std::string ir = ir_for("BEGIN { @h = hist(nsecs); }");
  EXPECT_EQ(count(ir, "llvm.ctlz"), 0u);
}

// Whether the optimized IR has the log2 step "x > below".
bool has_log2_step(const std::string &ir, const std::string &below) {
  return std::regex_search(
      ir, std::regex("icmp ugt i64 %[^,]+, " + below + "(,|\\n)"));
}

// The optimizer sees the log2 as one opaque call (log2_bucket.h); the
// backend gets the binary search, one branch per step.
TEST(HistBucket, Log2IsAPlaceholderUntilTheBackend) {
  std::string ir = ir_for("BEGIN { @h = hist(nsecs); }");
  EXPECT_EQ(count(ir, "call i64 @hvt.log2("), 1u) << ir;
  EXPECT_EQ(count(ir, "icmp ugt"), 0u) << ir;
  std::string optimized = optimized_ir_for("BEGIN { @h = hist(nsecs); }");
  EXPECT_EQ(count(optimized, "hvt.log2"), 0u) << optimized;
  EXPECT_EQ(count(optimized, "icmp ugt i64"), 5u) << optimized;
  EXPECT_EQ(count(optimized, "select"), 0u) << optimized;
  for (const char *below : {"4294967295", "65535", "255", "15", "3"})
    EXPECT_TRUE(has_log2_step(optimized, below)) << below << "\n" << optimized;
}

// A value the optimizer knows fits in 16 bits needs no 32- or 16-bit step,
// as when the optimizer saw the whole search; a constant's bucket is
// computed.
TEST(HistBucket, Log2StepsFollowWhatTheValueCanBe) {
  std::string narrow = optimized_ir_for(
      "tracepoint:syscalls:sys_enter_read { @h = hist(args.count & 0xffff); }");
  EXPECT_EQ(count(narrow, "icmp ugt i64"), 3u) << narrow;
  EXPECT_FALSE(has_log2_step(narrow, "4294967295")) << narrow;
  EXPECT_FALSE(has_log2_step(narrow, "65535")) << narrow;
  for (const char *below : {"255", "15", "3"})
    EXPECT_TRUE(has_log2_step(narrow, below)) << below << "\n" << narrow;
  std::string constant = optimized_ir_for("BEGIN { @h = hist(1024); }");
  EXPECT_EQ(count(constant, "icmp ugt"), 0u) << constant;
  EXPECT_EQ(count(constant, "hvt.log2"), 0u) << constant;
}

TEST(MapReadSharing, ATupleIsReadOnceForPredicateAndBody) {
  // The kvmexits pattern: one tuple per thread, tested in the predicate and
  // copied into a variable in the body.
  std::string ir = ir_for(
      "tracepoint:raw_syscalls:sys_enter { @e[tid] = (nsecs, 1, \"x\"); }\n"
      "tracepoint:raw_syscalls:sys_exit /@e[tid].0/ { $e = @e[tid];"
      " @h[$e.1, $e.2] = hist(nsecs - $e.0); delete(@e[tid]); }");
  EXPECT_EQ(lookups(ir, "e"), 1u) << ir;
}

TEST(MapReadSharing, RepeatedTupleReadsCopyIntoOneBuffer) {
  // Each read after a write looks up again, into the same stack buffer.
  std::string ir = ir_for(
      "BEGIN { @e[1] = (1, \"abc\"); }\n"
      "END { unroll(4) { $x = @e[1]; @e[1] = ($x.0 + 1, \"d\"); } }");
  EXPECT_EQ(lookups(ir, "e"), 4u) << ir;
  EXPECT_EQ(count(ir, "%read = alloca"), 1u) << ir;
  EXPECT_EQ(count(ir, "%read1 = alloca"), 0u) << ir;
}

const MapDesc *find_map(const CompiledProgram &program,
                        const std::string &name) {
  for (const auto &map : program.maps)
    if (map.name == name)
      return &map;
  return nullptr;
}

CompiledProgram compiled_for(const std::string &text) {
  SourceFile source("perf.ht", text);
  Diagnostics diags;
  CompileOptions options;
  options.semantic.read_environment = false;
  auto compiled = compile(source, options, diags);
  EXPECT_TRUE(compiled) << diags.render(source);
  return compiled ? *compiled : CompiledProgram{};
}

TEST(MapLayout, KeyLessHistogramsArePerCpuArraysOfBuckets) {
  CompiledProgram p = compiled_for(
      "BEGIN { @h = hist(nsecs); @l = lhist(nsecs, 0, 100, 10);"
      " @k[1] = hist(nsecs); }");
  const MapDesc *h = find_map(p, "@h"), *l = find_map(p, "@l");
  ASSERT_TRUE(h && l);
  EXPECT_EQ(h->storage, MapStorage::PercpuArray);
  // < 0, 0, then 63 powers of two; one slot more says zero() kept it.
  EXPECT_EQ(h->max_entries, 66u);
  EXPECT_EQ(h->bpf_key_size(), 4u);
  EXPECT_EQ(l->storage, MapStorage::PercpuArray);
  EXPECT_EQ(l->max_entries, 13u); // below, 10 steps, above, zero()
  // A keyed histogram stays a hash of (key, u64 bucket).
  EXPECT_EQ(find_map(p, "@k")->storage, MapStorage::PercpuHash);
  EXPECT_EQ(find_map(p, "@k")->bpf_key_size(), 16u);
  // No insert path: the array has every bucket.
  std::string ir = ir_for("BEGIN { @h = hist(nsecs); }");
  EXPECT_EQ(count(ir, "inttoptr (i64 2 to ptr)"), 0u) << ir;
  EXPECT_NE(ir.find("store i32 "), std::string::npos) << ir;
}

TEST(MapLayout, ThirtyTwoBitKeysAreFourBytes) {
  CompiledProgram p = compiled_for(
      "tracepoint:raw_syscalls:sys_enter { @t[tid] = count(); @c[cpu] = 1;"
      " @a[args.id] = 1; @m[tid] = 1; @m[7] = 2; @w[tid] = 1; @w[nsecs] = 2;"
      " @s[tid, 1] = 1; }");
  EXPECT_EQ(find_map(p, "@t")->key.size, 4u);
  EXPECT_FALSE(find_map(p, "@t")->key.is_signed);
  EXPECT_EQ(find_map(p, "@c")->key.size, 4u);
  EXPECT_EQ(find_map(p, "@m")->key.size, 4u); // small literals fit too
  // args.id is a long; nsecs is 64 bits; tuples keep bpftrace's layout.
  EXPECT_EQ(find_map(p, "@a")->key.size, 8u);
  EXPECT_EQ(find_map(p, "@w")->key.size, 8u);
  EXPECT_EQ(find_map(p, "@s")->key.size, 16u);
}

// symbolic(args.exit_reason) on kvm_exit: with the vendor known
// (passes/host_fields.h), BPF reads neither `isa` (offset 24) nor computes
// a table id: it stores the reason as read, and the map's type carries the
// VMX table and mask. $HVT_KVM_ISA stands for the host here.
TEST(SymbolicStorage, AFixedIsaStoresTheReasonAsRead) {
  const std::string text =
      "tracepoint:kvm:kvm_exit { @r[tid] = symbolic(args.exit_reason); }";
  setenv("HVT_KVM_ISA", "vmx", 1);
  std::string fixed = optimized_ir_for(text);
  CompiledProgram p = compiled_for(text);
  setenv("HVT_KVM_ISA", "record", 1);
  std::string per_record = optimized_ir_for(text);
  unsetenv("HVT_KVM_ISA");
  const char *isa_read = "getelementptr i8, ptr %ctx, i64 24";
  EXPECT_EQ(count(fixed, isa_read), 0u) << fixed;
  EXPECT_EQ(count(fixed, "select"), 0u) << fixed;
  EXPECT_EQ(count(per_record, isa_read), 1u) << per_record;
  const MapDesc *r = find_map(p, "@r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value.kind, TypeKind::Symbolic);
  EXPECT_NE(r->value.symbol_table, 0u);
  EXPECT_EQ(r->value.symbol_mask, 0xffffu);
}

// One map fed by values of two tables holds encoded words: each store
// adds its table id (the top byte, runtime/symbols.h) to the stored field.
TEST(SymbolicStorage, TwoTablesInOneMapStoreEncodedWords) {
  const std::string softirq =
      "tracepoint:irq:softirq_entry { @n[symbolic(args.vec)] = count(); }\n";
  CompiledProgram alone = compiled_for(softirq);
  EXPECT_NE(find_map(alone, "@n")->key.symbol_table, 0u);
  CompiledProgram mixed =
      compiled_for(softirq + "tracepoint:sched:sched_switch { "
                             "@n[symbolic(args.prev_state)] = count(); }");
  EXPECT_EQ(find_map(mixed, "@n")->key.symbol_table, 0u);
  std::string ir =
      ir_for(softirq + "tracepoint:sched:sched_switch { "
                       "@n[symbolic(args.prev_state)] = count(); }");
  // In softirq_entry's program, the stored vec gets softirq's table, the
  // program's first: id 1 in the top byte.
  size_t begin = ir.find("define i64 @tracepoint_irq_softirq_entry");
  ASSERT_NE(begin, std::string::npos) << ir;
  std::string function = ir.substr(begin, ir.find("\n}\n", begin) - begin);
  EXPECT_NE(function.find(", 72057594037927936,"), std::string::npos)
      << function;
}

TEST(PidCompare, StaysAShift) {
  // InstCombine would turn `pid == 42` into a test of the masked
  // pid_tgid against 42 << 32: two 64-bit constants.
  std::string ir = optimized_ir_for(
      "tracepoint:raw_syscalls:sys_enter /pid == 42/ { @ = count(); }");
  EXPECT_NE(ir.find("lshr i64"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("180388626432"), std::string::npos) << ir; // 42 << 32
}

} // namespace
} // namespace hvt
