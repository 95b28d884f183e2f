// Codegen of the language features: key IR lines (helper calls, the maps
// they need) and the metadata the runtime reads, plus the emitted object as
// libbpf sees it. Behaviour is checked end to end in tests/kernel.
#include "btf_types.h"
#include "codegen/codegen.h"
#include "driver/pipeline.h"
#include "frontend/parser.h"
#include "symbolizer.h"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <regex>

namespace hvt {
namespace {

struct Generated {
  std::string ir; // unoptimized
  CompiledProgram compiled;
};

Generated generate(const std::string &text) {
  Generated out;
  SourceFile source("test.ht", text);
  Diagnostics diags;
  auto program = parse_program(source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(source);
  if (!program)
    return out;
  SemanticResult semantic;
  semantic.options.read_environment = false;
  resolve_attach_points(*program, diags, semantic);
  check_types(*program, diags, semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(source);
  if (diags.has_errors())
    return out;
  llvm::LLVMContext context;
  auto module = generate_ir(context, *program, semantic, source, out.compiled);
  llvm::raw_string_ostream os(out.ir);
  module->print(os, nullptr);
  return out;
}

// A call of BPF helper `id` (helpers are called through their number).
std::string helper(int id) {
  return "inttoptr (i64 " + std::to_string(id) + " to ptr)";
}

bool has(const std::string &ir, const std::string &text) {
  return ir.find(text) != std::string::npos;
}

TEST(LanguageCodegen, KstackUsesAStackMapPerFrameLimit) {
  auto g = generate(
      "BEGIN { @a[kstack] = count(); @b[ustack(perf, 5)] = count(); }");
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_get_stackid) +
                            "(ptr %ctx, ptr @stack_127, i64 0)"))
      << g.ir;
  // User stacks pass BPF_F_USER_STACK.
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_get_stackid) +
                            "(ptr %ctx, ptr @stack_5, i64 256)"));
  ASSERT_EQ(g.compiled.stack_maps.size(), 2u);
  EXPECT_EQ(g.compiled.stack_maps[0].elf_name, "stack_127");
  EXPECT_EQ(g.compiled.stack_maps[0].limit, 127u);
  EXPECT_EQ(g.compiled.stack_maps[1].limit, 5u);
  // The mode travels in the value: `store i8 1` (perf) at offset 12.
  EXPECT_TRUE(has(g.ir, "store i8 1")) << g.ir;
}

TEST(LanguageCodegen, ElapsedReadsTheStartTimeMap) {
  auto g = generate("BEGIN { @ = elapsed; }");
  EXPECT_EQ(g.compiled.elapsed_map, "elapsed_start");
  EXPECT_TRUE(has(g.ir, "@elapsed_start = "));
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_ktime_get_ns)));
  EXPECT_TRUE(generate("BEGIN { @ = nsecs; }").compiled.elapsed_map.empty());
}

TEST(LanguageCodegen, AggregationReadSumsEveryCpu) {
  auto g = generate("BEGIN { @c = count(); if (@c > 10) { exit(); } }");
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_map_lookup_percpu_elem) + "(ptr @m_c"))
      << g.ir;
}

TEST(LanguageCodegen, UpdatesCountNothingAndLostRecordsOneAtomicAdd) {
  auto g = generate("BEGIN { @a = 1; @b[2] = 3; printf(\"%d\", 1); }");
  // A refused update is not counted in BPF (the runtime warns about full
  // maps at exit); a lost record is one atomic add to a .bss counter.
  EXPECT_FALSE(has(g.ir, "dropped")) << g.ir;
  EXPECT_TRUE(has(g.ir, "@hvt_lost_events = dso_local global i64 0, "
                        "section \".bss\""))
      << g.ir;
  EXPECT_TRUE(has(g.ir, "atomicrmw add ptr @hvt_lost_events, i64 1")) << g.ir;
  EXPECT_EQ(g.compiled.lost_events_name, ".bss");
  // A program that sends no records has no counter.
  EXPECT_FALSE(has(generate("BEGIN { @a = 1; }").ir, "hvt_lost_events"));
}

TEST(LanguageCodegen, SignedDivisionAvoidsSdiv) {
  // BPF before ISA v4 has no signed division instruction.
  auto g = generate("BEGIN { $a = (int64)nsecs; @q = $a / -3; @r = $a % 7; }");
  EXPECT_FALSE(has(g.ir, " sdiv ")) << g.ir;
  EXPECT_FALSE(has(g.ir, " srem ")) << g.ir;
  EXPECT_TRUE(has(g.ir, " udiv "));
  EXPECT_TRUE(has(g.ir, " urem "));
}

TEST(LanguageCodegen, LenCountsWithACallback) {
  auto g = generate("BEGIN { @m[1] = 1; @n = len(@m); }");
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_for_each_map_elem) +
                            "(ptr @m_m, ptr @hvt_count_entry"))
      << g.ir;
  EXPECT_TRUE(has(g.ir, "define internal i64 @hvt_count_entry("));
}

TEST(LanguageCodegen, JoinHasAFormatPerArgumentCount) {
  auto g = generate(
      "tracepoint:syscalls:sys_enter_execve { join(args->argv, \",\"); }");
  ASSERT_EQ(g.compiled.printfs.size(), 17u);
  EXPECT_EQ(g.compiled.printfs[0].format, "\n");
  EXPECT_EQ(g.compiled.printfs[3].format, "%s,%s,%s\n");
  EXPECT_EQ(g.compiled.printfs[16].args.fields.size(), 16u);
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_ringbuf_reserve)));
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_ringbuf_submit)));
}

TEST(LanguageCodegen, JoinDelimiterPercentIsEscaped) {
  auto g = generate(
      "tracepoint:syscalls:sys_enter_execve { join(args->argv, \"%\"); }");
  EXPECT_EQ(g.compiled.printfs[2].format, "%s%%%s\n");
}

TEST(LanguageCodegen, CatIsAPrintfWhoseTextNamesAFile) {
  auto g = generate("BEGIN { cat(\"/proc/%d/status\", pid); printf(\"x\"); }");
  ASSERT_EQ(g.compiled.printfs.size(), 2u);
  EXPECT_EQ(g.compiled.printfs[0].action, PrintfAction::Cat);
  EXPECT_EQ(g.compiled.printfs[0].format, "/proc/%d/status");
  EXPECT_EQ(g.compiled.printfs[1].action, PrintfAction::Print);
}

TEST(LanguageCodegen, TimeFormatsAndStrftimeValues) {
  auto g = generate("BEGIN { time(); time(\"%H\\n\"); printf(\"%s\", "
                    "strftime(\"%Y\", nsecs)); }");
  ASSERT_EQ(g.compiled.time_formats.size(), 2u);
  EXPECT_EQ(g.compiled.time_formats[0], "");
  EXPECT_EQ(g.compiled.time_formats[1], "%H\n");
  ASSERT_EQ(g.compiled.printfs.size(), 1u);
  EXPECT_EQ(g.compiled.printfs[0].args.fields[0].kind, TypeKind::Timestamp);
}

TEST(LanguageCodegen, KaddrIsResolvedAtCompileTime) {
  auto g = generate("BEGIN { @ = kaddr(\"vfs_read\"); }");
  auto address = symbolizer::kernel_address("vfs_read");
  ASSERT_TRUE(address);
  EXPECT_TRUE(
      has(g.ir, "store i64 " + std::to_string(static_cast<int64_t>(*address))))
      << g.ir;
}

TEST(LanguageCodegen, StrOfUnknownPointerUsesTheCompatHelper) {
  auto g = generate("tracepoint:syscalls:sys_enter_openat { "
                    "@[str(args->filename, 5)] = count(); }");
  // probe_read_str picks user or kernel memory by address; 5 chars + NUL.
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_probe_read_str) + "(ptr %str, i64 6,"))
      << g.ir;
}

TEST(LanguageCodegen, BigPrintfRecordsAreBuiltInTheRingBuffer) {
  auto g = generate("BEGIN { printf(\"%s %s %s\", str(0), str(1), str(2)); }");
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_ringbuf_reserve)));
  auto small = generate("BEGIN { printf(\"%d\", pid); }");
  EXPECT_FALSE(has(small.ir, helper(BPF_FUNC_ringbuf_reserve)));
  EXPECT_TRUE(has(small.ir, helper(BPF_FUNC_ringbuf_output)));
}

TEST(LanguageObject, DeclaredAndStackMapsAsLibbpfSeesThem) {
  SourceFile source("test.ht",
                    "let @a = percpuarray(16);\n"
                    "BEGIN { @a[cpu] = 1; @s[kstack(8)] = count();"
                    " printf(\"x\"); }");
  Diagnostics diags;
  CompileOptions options;
  options.semantic.read_environment = false;
  auto compiled = compile(source, options, diags);
  ASSERT_TRUE(compiled) << diags.render(source);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "hvt_test");
  bpf_object *obj =
      bpf_object__open_mem(compiled->elf.data(), compiled->elf.size(), &opts);
  ASSERT_NE(obj, nullptr);
  bpf_map *array = bpf_object__find_map_by_name(obj, "m_a");
  ASSERT_NE(array, nullptr);
  EXPECT_EQ(bpf_map__type(array), BPF_MAP_TYPE_PERCPU_ARRAY);
  EXPECT_EQ(bpf_map__key_size(array), 4u);
  EXPECT_EQ(bpf_map__max_entries(array), 16u);
  bpf_map *stacks = bpf_object__find_map_by_name(obj, "stack_8");
  ASSERT_NE(stacks, nullptr);
  EXPECT_EQ(bpf_map__type(stacks), BPF_MAP_TYPE_STACK_TRACE);
  EXPECT_EQ(bpf_map__value_size(stacks), 64u);
  // The lost-record counter: libbpf's map of .bss, named after the object.
  bpf_map *lost = bpf_object__find_map_by_name(obj, ".bss");
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(bpf_map__type(lost), BPF_MAP_TYPE_ARRAY);
  EXPECT_EQ(bpf_map__value_size(lost), 8u);
  EXPECT_STREQ(bpf_map__name(lost), "hvt_test.bss");
  bpf_object__close(obj);
}

// Kernel struct members (BTF): the member's address is the pointer plus
// its BTF offset, read with one bpf_probe_read_kernel of its size into a
// stack slot (no zeroing).
TEST(LanguageCodegen, KernelMemberIsOneProbeReadAtItsOffset) {
  const btf::Btf *btf = btf::Btf::vmlinux();
  if (!btf)
    GTEST_SKIP() << "the kernel has no BTF";
  uint32_t sock = btf->find_struct("sock");
  auto common = btf::find_member(*btf, sock, "__sk_common");
  auto family =
      btf::find_member(*btf, btf->resolve(common->type), "skc_family");
  ASSERT_TRUE(common && family);
  auto g = generate("kprobe:f { $sk = (struct sock *)arg0; "
                    "@[$sk->__sk_common.skc_family] = count(); }");
  // The pointer plus the member's offset, then a 2-byte read from there.
  uint64_t offset = (common->bit_offset + family->bit_offset) / 8;
  std::regex read("add i64 %[0-9]+, " + std::to_string(offset) +
                  ", .*\n.* = inttoptr i64 %[0-9]+ to ptr.*\n.*\n.*" +
                  "inttoptr \\(i64 " +
                  std::to_string(BPF_FUNC_probe_read_kernel) +
                  " to ptr\\)\\(ptr %member, i64 2, ptr");
  EXPECT_TRUE(std::regex_search(g.ir, read)) << g.ir;
  EXPECT_FALSE(has(g.ir, "llvm.memset")) << g.ir;
}

TEST(LanguageCodegen, KernelCharArrayIsReadWholeAndBitfieldsAreShifted) {
  if (!btf::Btf::vmlinux())
    GTEST_SKIP() << "the kernel has no BTF";
  auto g = generate("kprobe:f { @[curtask->comm] = count(); "
                    "@b = ((struct sock *)arg0)->sk_no_check_tx; }");
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_probe_read_kernel) +
                            "(ptr %member, i64 16, ptr"))
      << g.ir;
  EXPECT_TRUE(has(g.ir, helper(BPF_FUNC_get_current_task) + "()")) << g.ir;
  EXPECT_TRUE(has(g.ir, "lshr i64 %") && has(g.ir, ", 63")) << g.ir;
}

} // namespace
} // namespace hvt
