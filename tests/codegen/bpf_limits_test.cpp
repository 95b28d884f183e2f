// BPF limits that hvt checks itself (codegen/bpf_limits.h): the stack
// estimate and where it points, the instruction count of emitted programs,
// and LLVM backend errors arriving as diagnostics instead of exit(1).
#include "codegen/bpf_limits.h"
#include "codegen/codegen.h"
#include "driver/pipeline.h"
#include "frontend/parser.h"

#include <gtest/gtest.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace hvt {
namespace {

struct Compiled {
  std::optional<CompiledProgram> program;
  std::string diagnostics;
};

Compiled compile_text(const std::string &text) {
  SourceFile source("test.ht", text);
  Diagnostics diags;
  Compiled result;
  result.program = compile(source, CompileOptions{}, diags);
  result.diagnostics = diags.render(source);
  return result;
}

TEST(StackLimit, SmallProgramCompiles) {
  Compiled done = compile_text(
      "kprobe:vfs_read { printf(\"%s %s\\n\", str(arg0), comm); }");
  EXPECT_TRUE(done.program) << done.diagnostics;
  EXPECT_EQ(done.diagnostics, "");
}

// The generated code changes as codegen improves, so these tests give the
// check hand-built IR: programs `i64 name(ptr)` with stack buffers of given
// sizes, each used at a given script location.
class StackIr {
public:
  StackIr() : module_("test", context_), di_(module_) {
    module_.setDataLayout("e-m:e-p:64:64-i64:64-i128:128-n32:64-S128");
    file_ = di_.createFile("test.ht", ".");
    di_.createCompileUnit(llvm::dwarf::DW_LANG_C, file_, "test", true, "", 0);
  }

  struct Use {
    uint32_t bytes, line, column;
  };

  void add_program(const std::string &name, const std::string &display,
                   size_t probe_index, const std::vector<Use> &buffers) {
    llvm::IRBuilder<> b(context_);
    auto *type = llvm::FunctionType::get(b.getInt64Ty(), {b.getPtrTy()}, false);
    auto *function = llvm::Function::Create(
        type, llvm::GlobalValue::ExternalLinkage, name, module_);
    auto *subprogram = di_.createFunction(
        file_, name, name, file_, 1,
        di_.createSubroutineType(di_.getOrCreateTypeArray({})), 1,
        llvm::DINode::FlagZero, llvm::DISubprogram::SPFlagDefinition);
    function->setSubprogram(subprogram);
    b.SetInsertPoint(llvm::BasicBlock::Create(context_, "entry", function));
    for (const auto &use : buffers) {
      auto *buffer =
          b.CreateAlloca(llvm::ArrayType::get(b.getInt8Ty(), use.bytes));
      b.SetCurrentDebugLocation(
          llvm::DILocation::get(context_, use.line, use.column, subprogram));
      b.CreateStore(b.getInt64(1), buffer, /*isVolatile=*/true);
    }
    b.CreateRet(b.getInt64(0));
    ProbeDesc probe;
    probe.program_name = name;
    probe.display = display;
    probe.probe_index = probe_index;
    probe.range = {{1, 1}, {1, static_cast<uint32_t>(display.size())}};
    compiled_.probes.push_back(probe);
  }

  std::string check(const SourceFile &source,
                    const ast::Program *program = nullptr) {
    di_.finalize();
    Diagnostics diags;
    bool ok = check_stack_usage(module_, compiled_, program, diags);
    EXPECT_EQ(ok, !diags.has_errors());
    return diags.render(source);
  }

private:
  llvm::LLVMContext context_;
  llvm::Module module_;
  llvm::DIBuilder di_;
  llvm::DIFile *file_ = nullptr;
  CompiledProgram compiled_;
};

const char *kThreeStatements = "BEGIN {\n"
                               "  printf(\"a\");\n"
                               "  printf(\"b\");\n"
                               "  printf(\"c\");\n"
                               "}\n";

TEST(StackLimit, PointsAtTheStatementThatCrossesTheLimit) {
  SourceFile source("test.ht", kThreeStatements);
  Diagnostics parse_diags;
  auto program = parse_program(source, parse_diags);
  ASSERT_TRUE(program);
  StackIr ir;
  ir.add_program("BEGIN_0", "BEGIN", 0,
                 {{200, 2, 3}, {16, 3, 3}, {200, 3, 3}, {200, 4, 3}});
  EXPECT_EQ(ir.check(source, program.get()),
            "test.ht:4:3-13: error: BPF stack limit exceeded: probe 'BEGIN' "
            "needs 616 bytes of stack, and a BPF program may use 512\n"
            "  printf(\"c\");\n"
            "  ^~~~~~~~~~~\n"
            "test.ht:1:1-5: note: the largest stack buffers of this probe are "
            "on line 3 (216 bytes), line 2 (200 bytes) and line 4 (200 "
            "bytes)\n"
            "BEGIN {\n"
            "^~~~~\n"
            "hint: strings, tuples and printf() arguments live on the stack: "
            "use fewer or shorter strings per probe (str(x, N) keeps N "
            "bytes), or split the work across probes\n");
}

TEST(StackLimit, WithoutTheAstTheCaretMarksTheStatementStart) {
  SourceFile source("test.ht", kThreeStatements);
  StackIr ir;
  ir.add_program("BEGIN_0", "BEGIN", 0, {{300, 2, 3}, {300, 3, 3}});
  std::string rendered = ir.check(source);
  EXPECT_EQ(rendered.substr(0, rendered.find('\n')),
            "test.ht:3:3: error: BPF stack limit exceeded: probe 'BEGIN' needs "
            "608 bytes of stack, and a BPF program may use 512")
      << "each 300-byte buffer takes 304 bytes of the frame";
}

TEST(StackLimit, LimitIsInclusiveAndBuffersAreWordAligned) {
  SourceFile source("test.ht", kThreeStatements);
  StackIr ir;
  ir.add_program("at_limit", "BEGIN", 0, {{256, 2, 3}, {256, 3, 3}});
  // 5 bytes take a whole 8-byte slot: 256 + 256 + 8.
  ir.add_program("over_limit", "END", 1, {{256, 2, 3}, {256, 3, 3}, {5, 4, 3}});
  std::string rendered = ir.check(source);
  EXPECT_EQ(rendered.find("'BEGIN'"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("probe 'END' needs 520 bytes"), std::string::npos)
      << rendered;
}

TEST(StackLimit, ProbeWithSeveralAttachPointsIsReportedOnce) {
  SourceFile source("test.ht", kThreeStatements);
  StackIr ir;
  ir.add_program("kprobe_a_0", "kprobe:a", 0, {{600, 2, 3}});
  ir.add_program("kprobe_b_0", "kprobe:b", 0, {{600, 2, 3}});
  std::string rendered = ir.check(source);
  size_t first = rendered.find("BPF stack limit exceeded");
  ASSERT_NE(first, std::string::npos) << rendered;
  EXPECT_EQ(rendered.find("BPF stack limit exceeded", first + 1),
            std::string::npos)
      << rendered;
}

TEST(StackLimit, UnrolledCopiesShareTheirBuffers) {
  // Every copy of an unrolled body is a statement of its own, done with its
  // buffers when it ends: 20 strings of 64 bytes take one string's room.
  Compiled done = compile_text(
      "kprobe:vfs_read { unroll(20) { printf(\"%s\\n\", str(arg0)); } }");
  EXPECT_TRUE(done.program) << done.diagnostics;
}

TEST(StackLimit, OneStatementOverTheLimitIsReportedWithItsBytes) {
  // Six 64-byte strings and the 384-byte key they are copied into are
  // alive at once (and the 8-byte value).
  Compiled done = compile_text(
      "kprobe:vfs_read {\n"
      "  printf(\"%s\\n\", str(arg0));\n"
      "  @reads[str(arg0), str(arg1), str(arg2), str(arg3), str(arg4),\n"
      "         str(arg5)] = count();\n"
      "}\n");
  EXPECT_FALSE(done.program);
  EXPECT_EQ(done.diagnostics.substr(0, done.diagnostics.find('\n')),
            "test.ht:3:3: error: BPF stack limit exceeded: probe "
            "'kprobe:vfs_read' needs 776 bytes of stack, and a BPF program "
            "may use 512")
      << done.diagnostics;
}

// Builds `i64 name(ptr)` with one `size`-byte stack buffer that it uses.
llvm::Function *program_with_buffer(llvm::Module &module, const char *name,
                                    uint32_t size) {
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> b(context);
  auto *type = llvm::FunctionType::get(b.getInt64Ty(), {b.getPtrTy()}, false);
  auto *function = llvm::Function::Create(
      type, llvm::GlobalValue::ExternalLinkage, name, module);
  b.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", function));
  auto *buffer = b.CreateAlloca(llvm::ArrayType::get(b.getInt8Ty(), size));
  b.CreateStore(b.getInt64(1), buffer, /*isVolatile=*/true);
  b.CreateRet(b.getInt64(0));
  return function;
}

TEST(ProgramSize, CountsInstructionsOfEachProgram) {
  Compiled done = compile_text("BEGIN { @a = pid; @b = 2; } END { @c = 3; }");
  ASSERT_TRUE(done.program) << done.diagnostics;
  Diagnostics diags;
  EXPECT_TRUE(check_program_sizes(done.program->elf, *done.program, diags));
  // With a limit of one instruction, both programs are too large.
  EXPECT_FALSE(check_program_sizes(done.program->elf, *done.program, diags, 1));
  ASSERT_EQ(diags.all().size(), 2u);
  EXPECT_NE(diags.all()[0].message.find("probe 'BEGIN' compiles to "),
            std::string::npos);
  EXPECT_NE(diags.all()[0].message.find(
                " BPF instructions, and the kernel accepts at most 1 per "
                "program"),
            std::string::npos)
      << diags.all()[0].message;
  EXPECT_NE(diags.all()[1].message.find("probe 'END'"), std::string::npos);
}

// The code size limits (kMaxProgramIrInstructions, kMaxModuleIrInstructions)
// bound what LLVM gets: past them, compile time ran to minutes.

// `count` map increments on separate statements: "@a0++; @a1++; ...".
std::string increments(int count) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += "@a" + std::to_string(i) + "++; ";
  return text;
}

// Everything before the first "\n" with each run of digits replaced by N, so
// the expectation does not depend on how many instructions codegen makes.
std::string first_line_without_numbers(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (isdigit(static_cast<unsigned char>(line[i]))) {
      out += 'N';
      while (i + 1 < line.size() &&
             isdigit(static_cast<unsigned char>(line[i + 1])))
        ++i;
    } else {
      out += line[i];
    }
  }
  return out;
}

TEST(CodeSize, AProbeOverTheLimitIsReportedAtItsLargestStatement) {
  // 2,000 map increments (~20 IR instructions each) but only ~6,000 AST
  // nodes, under the unroll limit of passes/resource_limits.cpp.
  Compiled done = compile_text("BEGIN {\n"
                               "  @small = 1;\n"
                               "  unroll(100) { " +
                               increments(20) +
                               "}\n"
                               "}\n");
  EXPECT_FALSE(done.program);
  EXPECT_EQ(first_line_without_numbers(done.diagnostics),
            "test.ht:N:N-N: error: probe 'BEGIN' is too large to compile: N "
            "LLVM IR instructions (N from this statement), and the limit is "
            "N")
      << done.diagnostics;
  EXPECT_EQ(done.diagnostics.rfind("test.ht:3:3-", 0), 0u) << done.diagnostics;
  EXPECT_NE(done.diagnostics.find("and the limit is " +
                                  std::to_string(kMaxProgramIrInstructions)),
            std::string::npos);
  EXPECT_NE(done.diagnostics.find("hint: unroll fewer times (a while loop runs "
                                  "without copying its body), or split the "
                                  "work across probes"),
            std::string::npos)
      << done.diagnostics;
}

TEST(CodeSize, AProbeJustUnderTheLimitCompiles) {
  Compiled done =
      compile_text("BEGIN { unroll(10) { " + increments(20) + "} }\n");
  EXPECT_TRUE(done.program) << done.diagnostics;
}

// A program through the front end and IR generation, unoptimized.
struct Generated {
  explicit Generated(const std::string &text) : source("test.ht", text) {
    program = parse_program(source, diags);
    if (!program)
      return;
    resolve_attach_points(*program, diags, semantic);
    check_types(*program, diags, semantic);
    if (!diags.has_errors())
      module = generate_ir(context, *program, semantic, source, compiled);
  }

  SourceFile source;
  Diagnostics diags;
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;
  llvm::LLVMContext context;
  CompiledProgram compiled;
  std::unique_ptr<llvm::Module> module;
};

// How many tracepoints `tracepoint:syscalls:sys_enter_*` matches here.
size_t syscall_entry_tracepoints() {
  SourceFile source("test.ht", "tracepoint:syscalls:sys_enter_* { }");
  Diagnostics diags;
  auto program = parse_program(source, diags);
  SemanticResult semantic;
  if (program)
    resolve_attach_points(*program, diags, semantic);
  return semantic.probes.empty() ? 0 : semantic.probes[0].points.size();
}

// Each syscall entry gets its own program of ~2,400 instructions (`probe`
// differs from one to the next, so they cannot share one).
const char *const kWideWildcard =
    "BEGIN { @start = nsecs; }\n"
    "tracepoint:syscalls:sys_enter_* { unroll(40) { @x[probe, comm] = "
    "hist(nsecs); printf(\"%d %s\\n\", pid, comm); } }\n";

TEST(CodeSize, AWildcardOverTheLimitIsBlamedWithItsMatches) {
  size_t matches = syscall_entry_tracepoints();
  ASSERT_GE(matches, 100u) << "this kernel has few syscall tracepoints";
  Compiled done = compile_text(kWideWildcard);
  EXPECT_FALSE(done.program);
  EXPECT_EQ(done.diagnostics.rfind(
                "test.ht:2:1-31: error: this program is too large to "
                "compile: its probes need more than " +
                    std::to_string(kMaxModuleIrInstructions) +
                    " LLVM IR instructions, the limit\n"
                    "tracepoint:syscalls:sys_enter_* {",
                0),
            0u)
      << done.diagnostics;
  EXPECT_NE(done.diagnostics.find(
                "hint: 'tracepoint:syscalls:sys_enter_*' matches " +
                std::to_string(matches) +
                " attach points, and each is compiled to its own program, "
                "here of ~"),
            std::string::npos)
      << done.diagnostics;
  EXPECT_NE(done.diagnostics.find(" instructions: narrow it (hvt -l "
                                  "'tracepoint:syscalls:sys_enter_*' lists "
                                  "them)\n"),
            std::string::npos)
      << done.diagnostics;
}

TEST(CodeSize, GenerationStopsOnceTheModuleIsOverTheLimit) {
  size_t matches = syscall_entry_tracepoints();
  ASSERT_GE(matches, 100u) << "this kernel has few syscall tracepoints";
  Generated wide(kWideWildcard);
  ASSERT_TRUE(wide.module) << wide.diags.render(wide.source);
  uint64_t instructions = 0;
  size_t functions = 0;
  for (const auto &function : *wide.module)
    if (!function.isDeclaration()) {
      instructions += function.getInstructionCount();
      ++functions;
    }
  EXPECT_GT(instructions, kMaxModuleIrInstructions);
  EXPECT_LT(functions, matches / 2) << "it went on after the limit";
  EXPECT_FALSE(check_code_size(*wide.module, wide.compiled, wide.program.get(),
                               &wide.semantic, wide.diags));
}

TEST(CodeSize, LimitsAreInclusive) {
  Generated small("BEGIN { @a = pid; } END { @b = tid; }");
  ASSERT_TRUE(small.module) << small.diags.render(small.source);
  uint64_t largest = 0, total = 0;
  for (const auto &function : *small.module)
    if (!function.isDeclaration()) {
      largest = std::max<uint64_t>(largest, function.getInstructionCount());
      total += function.getInstructionCount();
    }
  ASSERT_GT(largest, 0u);
  auto check = [&](uint64_t program_limit, uint64_t module_limit) {
    return check_code_size(*small.module, small.compiled, small.program.get(),
                           &small.semantic, small.diags, program_limit,
                           module_limit);
  };
  EXPECT_TRUE(check(largest, total));
  EXPECT_FALSE(small.diags.has_errors());
  EXPECT_FALSE(check(largest, total - 1));
  EXPECT_FALSE(check(largest - 1, total));
}

TEST(ProgramSize, IgnoresWhatIsNotAnElfObject) {
  CompiledProgram compiled;
  Diagnostics diags;
  EXPECT_TRUE(check_program_sizes({}, compiled, diags, 1));
  EXPECT_TRUE(
      check_program_sizes({0x7f, 'E', 'L', 'F', 2, 1}, compiled, diags, 1));
  EXPECT_FALSE(diags.has_errors());
}

// LLVM's default handler would print the error and call exit(1).
TEST(BackendDiagnostics, BackendErrorsBecomeDiagnostics) {
  llvm::LLVMContext context;
  llvm::Module module("test", context);
  llvm::Function *function = program_with_buffer(module, "BEGIN_0", 8);
  CompiledProgram compiled;
  compiled.probes.resize(1);
  compiled.probes[0].program_name = "BEGIN_0";
  compiled.probes[0].display = "BEGIN";
  compiled.probes[0].range = {{4, 1}, {4, 5}};
  Diagnostics diags;
  {
    BackendDiagnostics backend(context);
    for (int i = 0; i < 3; ++i) // once per instruction past the limit
      context.diagnose(llvm::DiagnosticInfoUnsupported(
          *function, "Looks like the BPF stack limit is exceeded."));
    context.diagnose(
        llvm::DiagnosticInfoUnsupported(*function, "unsupported thing"));
    EXPECT_EQ(backend.problems().size(), 2u);
    EXPECT_FALSE(backend.report(compiled, nullptr, diags));
  }
  ASSERT_EQ(diags.all().size(), 2u);
  EXPECT_EQ(diags.all()[0].message,
            "BPF stack limit exceeded: probe 'BEGIN' needs more than 512 "
            "bytes of stack once compiled");
  EXPECT_EQ(diags.all()[0].range.begin.line, 4u);
  EXPECT_EQ(diags.all()[1].message,
            "internal error: the BPF backend cannot compile this program: "
            "unsupported thing");
}

TEST(BackendDiagnostics, RestoresThePreviousHandler) {
  llvm::LLVMContext context;
  const llvm::DiagnosticHandler *before = context.getDiagHandlerPtr();
  {
    BackendDiagnostics backend(context);
    EXPECT_NE(context.getDiagHandlerPtr(), before);
  }
  EXPECT_EQ(context.getDiagHandlerPtr(), before);
}

} // namespace
} // namespace hvt
