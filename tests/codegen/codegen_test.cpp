// Codegen tier: key IR lines (not whole-file snapshots) and the emitted ELF
// as libbpf sees it.
#include "codegen/codegen.h"
#include "driver/pipeline.h"
#include "frontend/parser.h"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <set>

namespace hvt {
namespace {

const char *kOpenat =
    "tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }\n"
    "BEGIN { printf(\"pid %d %s\\n\", pid, comm); }\n";

// Runs the front end and returns the unoptimized IR text.
// `attach_cookies`: what codegen is told of the kernel (null: none).
std::string ir_for(const std::string &text, CompiledProgram &compiled,
                   bool (*attach_cookies)() = nullptr) {
  SourceFile source("test.ht", text);
  Diagnostics diags;
  auto program = parse_program(source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(source);
  SemanticResult semantic;
  semantic.options.kernel_has_attach_cookies = attach_cookies;
  resolve_attach_points(*program, diags, semantic);
  check_types(*program, diags, semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(source);
  add_fallback_points(semantic); // kprobe <-> fentry twins, as the pipeline does
  llvm::LLVMContext context;
  auto module = generate_ir(context, *program, semantic, source, compiled);
  std::string ir;
  llvm::raw_string_ostream os(ir);
  module->print(os, nullptr);
  return ir;
}

TEST(CodegenIr, TracepointProgramHasSectionAndCommHelper) {
  CompiledProgram compiled;
  std::string ir = ir_for(kOpenat, compiled);
  EXPECT_NE(ir.find("section \"tracepoint/syscalls/sys_enter_openat\""),
            std::string::npos);
  // bpf_get_current_comm is helper 16, called with a 16-byte buffer.
  EXPECT_NE(ir.find("inttoptr (i64 16 to ptr)(ptr"), std::string::npos) << ir;
  EXPECT_NE(ir.find("section \"license\""), std::string::npos);
  EXPECT_NE(ir.find("@m__anon = "), std::string::npos);
}

// The fentry/fexit twins of kprobes read a u64-array context: argN is
// ctx[N] and fexit's retval follows the last argument (vfs_read has four);
// the kprobe programs themselves read pt_regs (si at 104, ax at 80).
TEST(CodegenIr, TrampolineTwinsReadArgumentsFromTheContextArray) {
  CompiledProgram compiled;
  std::string ir = ir_for("kprobe:vfs_read { @a = arg1; }\n"
                          "kretprobe:vfs_read { @r = retval; }\n",
                          compiled);
  auto body = [&](const std::string &section) {
    size_t at = ir.find("section \"" + section + "\"");
    EXPECT_NE(at, std::string::npos) << section << "\n" << ir;
    return at == std::string::npos ? std::string() : ir.substr(at, ir.find("\n}", at) - at);
  };
  EXPECT_NE(body("fentry/vfs_read").find("ptr %ctx, i64 8,"), std::string::npos) << ir;
  EXPECT_NE(body("fexit/vfs_read").find("ptr %ctx, i64 32,"), std::string::npos) << ir;
  EXPECT_NE(body("kprobe").find("ptr %ctx, i64 104,"), std::string::npos) << ir;
  EXPECT_NE(body("kretprobe").find("ptr %ctx, i64 80,"), std::string::npos) << ir;
}

TEST(CodegenIr, StringBuffersAreWordAligned) {
  CompiledProgram compiled;
  std::string ir = ir_for(kOpenat, compiled);
  // No byte-aligned string buffers: LLVM would copy them byte by byte.
  EXPECT_EQ(ir.find("alloca [16 x i8], align 1"), std::string::npos);
  EXPECT_NE(ir.find("alloca [16 x i8], align 8"), std::string::npos);
}

TEST(CodegenIr, MetadataDescribesMapsAndPrintf) {
  CompiledProgram compiled;
  ir_for(kOpenat, compiled);
  ASSERT_EQ(compiled.maps.size(), 1u);
  EXPECT_EQ(compiled.maps[0].name, "@");
  EXPECT_EQ(compiled.maps[0].agg, AggKind::Count);
  EXPECT_EQ(compiled.maps[0].storage, MapStorage::PercpuHash);
  EXPECT_EQ(compiled.maps[0].key, Type::string(16));
  ASSERT_EQ(compiled.printfs.size(), 1u);
  EXPECT_EQ(compiled.printfs[0].format, "pid %d %s\n");
  EXPECT_EQ(compiled.printfs[0].args.name(), "(uint64,string[16])");
  ASSERT_EQ(compiled.probes.size(), 2u);
  EXPECT_EQ(compiled.probes[0].kind, ProbeKind::Tracepoint);
  EXPECT_EQ(compiled.probes[0].target, "syscalls:sys_enter_openat");
  EXPECT_EQ(compiled.probes[1].kind, ProbeKind::Begin);
}

// Attach points of one probe and kind share a program unless its code
// depends on the point: `probe` names it, `args` reads its record.
struct Sharing {
  std::set<std::string> programs; // distinct program names of the probes
  std::set<std::string> targets;
  size_t points = 0;
  size_t functions = 0; // defined in the IR
  std::vector<uint64_t> cookies; // each point's, in order
  std::string ir;
};

Sharing sharing_of(const std::string &text,
                   bool (*attach_cookies)() = nullptr) {
  CompiledProgram compiled;
  std::string ir = ir_for(text, compiled, attach_cookies);
  Sharing result;
  for (const auto &probe : compiled.probes) {
    result.programs.insert(probe.program_name);
    result.targets.insert(probe.target);
    result.cookies.push_back(probe.attach_cookie);
    ++result.points;
  }
  result.ir = ir;
  for (size_t at = ir.find("\ndefine "); at != std::string::npos;
       at = ir.find("\ndefine ", at + 1))
    ++result.functions;
  return result;
}

const char *const kThreeSyscalls = "tracepoint:syscalls:sys_enter_getppid, "
                                   "tracepoint:syscalls:sys_enter_getpgid, "
                                   "tracepoint:syscalls:sys_enter_getsid ";

TEST(CodegenSharing, PointsWhoseCodeIsTheSameShareOneProgram) {
  Sharing shared = sharing_of(std::string(kThreeSyscalls) +
                              "/comm == \"x\"/ { @[comm, tid] = count(); }");
  EXPECT_EQ(shared.points, 3u);
  EXPECT_EQ(shared.targets.size(), 3u) << "each point keeps its target";
  EXPECT_EQ(shared.programs.size(), 1u);
  EXPECT_EQ(shared.functions, 1u);
}

TEST(CodegenSharing, ProbeOrArgsGiveEachPointItsOwnProgram) {
  for (const char *body :
       {"{ @[probe] = count(); }", "{ @[args->__syscall_nr] = count(); }",
        "{ printf(\"%s\\n\", probe); }"}) {
    Sharing own = sharing_of(std::string(kThreeSyscalls) + body);
    EXPECT_EQ(own.points, 3u) << body;
    EXPECT_EQ(own.programs.size(), 3u) << body;
    EXPECT_EQ(own.functions, 3u) << body;
  }
}

bool kernel_with_cookies() { return true; }
bool kernel_without_cookies() { return false; }

// `probe` read from a table at the link's attach cookie: the tracepoints
// share one program again, and each link is given its point's index.
TEST(CodegenSharing, ProbeReadByAttachCookieShares) {
  for (const char *body :
       {"{ @[probe] = count(); }", "{ printf(\"%s\\n\", probe); }"}) {
    Sharing shared =
        sharing_of(std::string(kThreeSyscalls) + body, kernel_with_cookies);
    EXPECT_EQ(shared.points, 3u) << body;
    EXPECT_EQ(shared.targets.size(), 3u) << body;
    EXPECT_EQ(shared.programs.size(), 1u) << body;
    EXPECT_EQ(shared.functions, 1u) << body;
    EXPECT_EQ(shared.cookies, (std::vector<uint64_t>{0, 1, 2})) << body;
    // bpf_get_attach_cookie is helper 174; the names, 64-byte rows.
    EXPECT_NE(shared.ir.find("inttoptr (i64 174 to ptr)(ptr %ctx)"),
              std::string::npos)
        << shared.ir;
    EXPECT_NE(shared.ir.find("@probe_names = private constant [256 x i8] "
                             "c\"tracepoint:syscalls:sys_enter_getppid\\00"),
              std::string::npos)
        << shared.ir;
  }
}

TEST(CodegenSharing, OneNameTablePerProbe) {
  Sharing shared = sharing_of(
      std::string(kThreeSyscalls) +
          "{ @[probe] = count(); printf(\"%s\\n\", probe); }"
          " tracepoint:syscalls:sys_enter_getuid,"
          " tracepoint:syscalls:sys_enter_getgid { @[probe] = count(); }",
      kernel_with_cookies);
  EXPECT_EQ(shared.functions, 2u);
  size_t tables = 0;
  for (size_t at = shared.ir.find("\n@probe_names"); at != std::string::npos;
       at = shared.ir.find("\n@probe_names", at + 1))
    ++tables;
  EXPECT_EQ(tables, 2u) << shared.ir;
  EXPECT_EQ(shared.cookies, (std::vector<uint64_t>{0, 1, 2, 0, 1}));
}

TEST(CodegenSharing, NoAttachCookieWithoutTheKernelsOrWhenNotNeeded) {
  // The kernel has none: a program per point, as before.
  Sharing own =
      sharing_of(std::string(kThreeSyscalls) + "{ @[probe] = count(); }",
                 kernel_without_cookies);
  EXPECT_EQ(own.programs.size(), 3u);
  EXPECT_EQ(own.cookies, (std::vector<uint64_t>{0, 0, 0}));
  EXPECT_EQ(own.ir.find("i64 174 to ptr"), std::string::npos);
  // args stays point-specific.
  Sharing with_args =
      sharing_of(std::string(kThreeSyscalls) +
                     "{ @[probe, args->__syscall_nr] = count(); }",
                 kernel_with_cookies);
  EXPECT_EQ(with_args.programs.size(), 3u);
  // One tracepoint: its name is a constant.
  Sharing single = sharing_of(
      "tracepoint:syscalls:sys_enter_getppid { @[probe] = count(); }",
      kernel_with_cookies);
  EXPECT_EQ(single.programs.size(), 1u);
  EXPECT_EQ(single.cookies, (std::vector<uint64_t>{0}));
  EXPECT_EQ(single.ir.find("i64 174 to ptr"), std::string::npos);
}

TEST(CodegenSharing, OnlyPointsOfTheSameKindShare) {
  Sharing mixed = sharing_of(
      "tracepoint:syscalls:sys_enter_getppid, rawtracepoint:sys_enter, "
      "tracepoint:syscalls:sys_enter_getsid, interval:s:1, interval:s:2 "
      "{ @ = count(); }");
  EXPECT_EQ(mixed.points, 5u);
  // The tracepoints share one; the raw tracepoint has its own; interval
  // probes (perf events) are not shared.
  EXPECT_EQ(mixed.programs.size(), 4u);
  EXPECT_EQ(mixed.functions, 4u);
}

TEST(CodegenElf, LibbpfOpensObjectWithExpectedMapsAndPrograms) {
  SourceFile source("test.ht", kOpenat);
  Diagnostics diags;
  CompileOptions options;
  auto compiled = compile(source, options, diags);
  ASSERT_TRUE(compiled) << diags.render(source);
  ASSERT_GT(compiled->elf.size(), 64u);
  EXPECT_EQ(std::string(compiled->elf.begin() + 1, compiled->elf.begin() + 4), "ELF");

  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "hvt_test");
  bpf_object *obj = bpf_object__open_mem(compiled->elf.data(), compiled->elf.size(), &opts);
  ASSERT_NE(obj, nullptr);

  bpf_map *counts = bpf_object__find_map_by_name(obj, "m__anon");
  ASSERT_NE(counts, nullptr);
  EXPECT_EQ(bpf_map__type(counts), BPF_MAP_TYPE_PERCPU_HASH);
  EXPECT_EQ(bpf_map__key_size(counts), 16u);
  EXPECT_EQ(bpf_map__value_size(counts), 8u);
  EXPECT_EQ(bpf_map__max_entries(counts), 4096u);

  bpf_map *ringbuf = bpf_object__find_map_by_name(obj, "ringbuf");
  ASSERT_NE(ringbuf, nullptr);
  EXPECT_EQ(bpf_map__type(ringbuf), BPF_MAP_TYPE_RINGBUF);

  bpf_program *tp = bpf_object__find_program_by_name(obj, compiled->probes[0].program_name.c_str());
  ASSERT_NE(tp, nullptr);
  EXPECT_STREQ(bpf_program__section_name(tp), "tracepoint/syscalls/sys_enter_openat");
  EXPECT_EQ(bpf_program__type(tp), BPF_PROG_TYPE_TRACEPOINT);
  bpf_program *begin = bpf_object__find_program_by_name(obj, compiled->probes[1].program_name.c_str());
  ASSERT_NE(begin, nullptr);
  EXPECT_EQ(bpf_program__type(begin), BPF_PROG_TYPE_RAW_TRACEPOINT);
  bpf_object__close(obj);
}

} // namespace
} // namespace hvt
