// Stack sharing between statements: codegen brackets each statement's
// buffers with llvm.lifetime.start/end so that LLVM's stack coloring lets
// statements reuse each other's bytes, and the stack check counts only the
// buffers alive at once. Also BEGIN tables, whose constant assignments the
// runtime writes instead of the BEGIN program.
#include "codegen/bpf_limits.h"
#include "codegen/codegen.h"
#include "driver/pipeline.h"
#include "frontend/parser.h"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace hvt {
namespace {

struct Front {
  std::unique_ptr<SourceFile> source;
  std::unique_ptr<ast::Program> program;
  SemanticResult semantic;
};

// The front end and passes, as the pipeline runs them.
Front front_end(const std::string &text) {
  Front f;
  f.source = std::make_unique<SourceFile>("test.ht", text);
  Diagnostics diags;
  auto program = parse_program(*f.source, diags);
  EXPECT_TRUE(program && !diags.has_errors()) << diags.render(*f.source);
  f.semantic.options.read_environment = false;
  resolve_attach_points(*program, diags, f.semantic);
  check_types(*program, diags, f.semantic);
  EXPECT_FALSE(diags.has_errors()) << diags.render(*f.source);
  add_fallback_points(f.semantic);
  collect_initial_entries(*program, f.semantic);
  f.program = std::unique_ptr<ast::Program>(program.release());
  return f;
}

std::string ir_text(const llvm::Module &module) {
  std::string ir;
  llvm::raw_string_ostream os(ir);
  module.print(os, nullptr);
  return ir;
}

// The body of the function defined in `section`.
std::string function_in(const std::string &ir, const std::string &section) {
  size_t at = ir.find("section \"" + section + "\"");
  if (at == std::string::npos)
    return "";
  return ir.substr(at, ir.find("\n}", at) - at);
}

TEST(StackSharing, EachStatementsBuffersLiveFromFirstUseToItsEnd) {
  Front f = front_end("tracepoint:syscalls:sys_enter_kill {\n"
                      "  $v = \"x\";\n"
                      "  @m[\"a\"] = 1;\n"
                      "  @m[\"b\"] = 2;\n"
                      "}\n");
  llvm::LLVMContext context;
  CompiledProgram compiled;
  auto module =
      generate_ir(context, *f.program, f.semantic, *f.source, compiled);
  std::string body =
      function_in(ir_text(*module), "tracepoint/syscalls/sys_enter_kill");
  // The first assignment's key: started before it is filled, ended after
  // the update (helper 2) that reads it, before the next statement starts.
  size_t start =
      body.find("call void @llvm.lifetime.start.p0(i64 8, ptr %key)");
  size_t update =
      body.find("call i64 inttoptr (i64 2 to ptr)(ptr @m_m, ptr %key,");
  size_t end = body.find("call void @llvm.lifetime.end.p0(i64 8, ptr %key)");
  size_t next =
      body.find("call void @llvm.lifetime.start.p0(i64 8, ptr %key2)");
  ASSERT_NE(start, std::string::npos) << body;
  ASSERT_NE(update, std::string::npos) << body;
  ASSERT_NE(end, std::string::npos) << body;
  ASSERT_NE(next, std::string::npos) << body;
  EXPECT_LT(start, update);
  EXPECT_LT(update, end);
  EXPECT_LT(end, next);
  // Allocas stay in the entry block; a variable lives as long as the probe.
  EXPECT_NE(body.find("%\"$v\" = alloca [8 x i8], align 8"), std::string::npos);
  EXPECT_EQ(body.find("ptr %\"$v\")"), std::string::npos)
      << "no lifetime marker for a variable\n"
      << body;
}

TEST(StackSharing, PredicateBuffersLiveThroughout) {
  // Ending them where the predicate is tested would cost jump threading a
  // block: one more instruction per event.
  Front f = front_end("tracepoint:syscalls:sys_enter_kill /@a[1]/ { @b = 1; }\n"
                      "END { @a[1] = 1; }\n");
  llvm::LLVMContext context;
  CompiledProgram compiled;
  auto module =
      generate_ir(context, *f.program, f.semantic, *f.source, compiled);
  std::string body =
      function_in(ir_text(*module), "tracepoint/syscalls/sys_enter_kill");
  EXPECT_EQ(body.find("lifetime.start.p0(i64 8, ptr %key)"), std::string::npos)
      << body;
  EXPECT_NE(body.find("lifetime.start.p0(i64 8, ptr %key1)"), std::string::npos)
      << body;
}

// The deepest stack offset (r10 - N) in each function of the assembly.
std::map<std::string, uint32_t> stack_depths(const std::string &assembly) {
  std::map<std::string, uint32_t> depth;
  std::string function;
  std::istringstream in(assembly);
  std::regex label(R"(^([A-Za-z_]\w*):)"), offset(R"(r10 - (\d+))");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, label) && line.rfind("LBB", 0) != 0) {
      function = m[1];
      depth[function] = 0;
    }
    for (auto it = std::sregex_iterator(line.begin(), line.end(), offset);
         it != std::sregex_iterator(); ++it)
      depth[function] =
          std::max<uint32_t>(depth[function], std::stoul((*it)[1]));
  }
  return depth;
}

TEST(StackSharing, LongProbeOfStringKeyedAssignmentsFitsTheStack) {
  // 60 assignments with 24-byte string keys: 1,440 bytes when each kept
  // its own buffers; one statement's worth when they share.
  std::string text = "tracepoint:syscalls:sys_enter_kill {\n";
  for (int i = 0; i < 60; ++i)
    text += "  @m[\"key_number_" + std::to_string(i) +
            "\"] = " + std::to_string(i) + ";\n";
  text += "}\n";
  SourceFile source("test.ht", text);
  Diagnostics diags;
  std::ostringstream assembly;
  CompileOptions options;
  options.codegen.dump_asm = &assembly;
  auto compiled = compile(source, options, diags);
  ASSERT_TRUE(compiled) << diags.render(source);
  auto depths = stack_depths(assembly.str());
  ASSERT_TRUE(depths.count("tracepoint_syscalls_sys_enter_kill_0"))
      << assembly.str();
  EXPECT_LE(depths["tracepoint_syscalls_sys_enter_kill_0"], 32u)
      << "a 24-byte key and an 8-byte value";
}

TEST(StackSharing, StatementsThatFitAloneFitTogether) {
  // Three printf records of 200 bytes each: over 512 when added up.
  SourceFile source(
      "test.ht", "kprobe:vfs_read {\n"
                 "  printf(\"%s %s %s\\n\", str(arg0), str(arg1), str(arg2));\n"
                 "  printf(\"%s %s %s\\n\", str(arg3), str(arg4), str(arg5));\n"
                 "  printf(\"%s %s %s\\n\", str(arg0), str(arg2), str(arg4));\n"
                 "}\n");
  Diagnostics diags;
  EXPECT_TRUE(compile(source, CompileOptions{}, diags)) << diags.render(source);
}

// Instructions per program of an emitted object, as libbpf counts them.
std::map<std::string, size_t> instruction_counts(const CompiledProgram &p) {
  std::map<std::string, size_t> counts;
  bpf_object *object =
      bpf_object__open_mem(p.elf.data(), p.elf.size(), nullptr);
  EXPECT_TRUE(object);
  if (!object)
    return counts;
  bpf_program *prog;
  bpf_object__for_each_program(prog, object) counts[bpf_program__name(prog)] =
      bpf_program__insn_cnt(prog);
  bpf_object__close(object);
  return counts;
}

std::string read_source(const std::string &relative) {
  std::ifstream in(std::string(HVT_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StackSharing, MarkersCostNoInstructionsOnTheBenchmarkPrograms) {
  for (const char *path :
       {"bench/programs/count.bt", "bench/programs/latency.bt",
        "bench/programs/kvmexits.bt", "bench/programs/printf.bt"}) {
    std::string text = read_source(path);
    ASSERT_FALSE(text.empty()) << path;
    Front f = front_end(text);
    llvm::LLVMContext context;
    CompiledProgram with, without;
    auto module = generate_ir(context, *f.program, f.semantic, *f.source, with);
    without = with;
    auto stripped = llvm::CloneModule(*module);
    std::vector<llvm::Instruction *> markers;
    for (auto &function : *stripped)
      for (auto &block : function)
        for (auto &inst : block)
          if (auto *i = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
              i && i->isLifetimeStartOrEnd())
            markers.push_back(i);
    ASSERT_FALSE(markers.empty()) << path;
    for (auto *marker : markers)
      marker->eraseFromParent();
    Diagnostics diags;
    ASSERT_TRUE(emit_bpf_object(*module, CodegenOptions{}, with, diags))
        << path << diags.render(*f.source);
    ASSERT_TRUE(emit_bpf_object(*stripped, CodegenOptions{}, without, diags))
        << path << diags.render(*f.source);
    auto counts = instruction_counts(with);
    auto baseline = instruction_counts(without);
    ASSERT_EQ(counts.size(), baseline.size()) << path;
    for (const auto &[name, count] : counts)
      EXPECT_LE(count, baseline[name]) << path << ": " << name;
  }
}

TEST(BeginTable, ConstantAssignmentsLeaveTheBeginProgram) {
  // The benchmark's scale workload (bench/bench.py, gen_table_script).
  std::string text = "BEGIN\n{\n";
  for (int i = 0; i < 1000; ++i)
    text += "  @name[" + std::to_string(i) + "] = \"name_" + std::to_string(i) +
            "\";\n";
  text += "}\n\ntracepoint:syscalls:sys_enter_kill\n{\n"
          "  @kills[@name[args->sig]] = count();\n}\n\n"
          "END\n{\n  clear(@name);\n}\n";
  SourceFile source("table.bt", text);
  Diagnostics diags;
  auto compiled = compile(source, CompileOptions{}, diags);
  ASSERT_TRUE(compiled) << diags.render(source);
  const MapDesc *name = nullptr;
  for (const auto &map : compiled->maps)
    if (map.name == "@name")
      name = &map;
  ASSERT_TRUE(name);
  EXPECT_EQ(name->initial_keys.size(), 1000u * name->bpf_key_size());
  EXPECT_EQ(name->initial_values.size(), 1000u * name->bpf_value_size());
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(
                &name->initial_values[999 * name->bpf_value_size()])),
            "name_999");
  // Nothing is left for BEGIN to do: it has no program at all (constant
  // records, codegen.cpp).
  auto counts = instruction_counts(*compiled);
  EXPECT_EQ(counts.count("BEGIN_0"), 0u);
  ASSERT_FALSE(compiled->probes.empty());
  EXPECT_EQ(compiled->probes[0].program_name, "");
}

// --- the stack check on hand-built IR with lifetime markers ---------------

class MarkedIr {
public:
  MarkedIr() : module_("test", context_), di_(module_) {
    module_.setDataLayout("e-m:e-p:64:64-i64:64-i128:128-n32:64-S128");
    file_ = di_.createFile("test.ht", ".");
    di_.createCompileUnit(llvm::dwarf::DW_LANG_C, file_, "test", true, "", 0);
    auto *type =
        llvm::FunctionType::get(b_.getInt64Ty(), {b_.getPtrTy()}, false);
    function_ = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                       "BEGIN_0", module_);
    subprogram_ = di_.createFunction(
        file_, "BEGIN_0", "BEGIN_0", file_, 1,
        di_.createSubroutineType(di_.getOrCreateTypeArray({})), 1,
        llvm::DINode::FlagZero, llvm::DISubprogram::SPFlagDefinition);
    function_->setSubprogram(subprogram_);
    entry_ = llvm::BasicBlock::Create(context_, "entry", function_);
    b_.SetInsertPoint(entry_);
    ProbeDesc probe;
    probe.program_name = "BEGIN_0";
    probe.display = "BEGIN";
    probe.range = {{1, 1}, {1, 5}};
    compiled_.probes.push_back(probe);
  }

  llvm::Value *buffer(uint32_t bytes) {
    llvm::IRBuilder<> entry(entry_, entry_->begin());
    return entry.CreateAlloca(llvm::ArrayType::get(b_.getInt8Ty(), bytes));
  }
  // At script line `line`: starts `ptr`, uses it.
  void start(llvm::Value *ptr, uint32_t line) {
    b_.SetCurrentDebugLocation(
        llvm::DILocation::get(context_, line, 3, subprogram_));
    b_.CreateLifetimeStart(ptr);
    b_.CreateStore(b_.getInt64(1), ptr, /*isVolatile=*/true);
  }
  void end(llvm::Value *ptr) { b_.CreateLifetimeEnd(ptr); }
  llvm::IRBuilder<> &builder() { return b_; }
  llvm::Function *function() { return function_; }

  std::string check() {
    if (!b_.GetInsertBlock()->getTerminator())
      b_.CreateRet(b_.getInt64(0));
    di_.finalize();
    SourceFile source("test.ht", "BEGIN {\n  a;\n  b;\n  c;\n}\n");
    Diagnostics diags;
    check_stack_usage(module_, compiled_, nullptr, diags);
    std::string text = diags.render(source);
    return text.substr(0, text.find('\n'));
  }

private:
  llvm::LLVMContext context_;
  llvm::Module module_;
  llvm::DIBuilder di_;
  llvm::IRBuilder<> b_{context_};
  llvm::DIFile *file_ = nullptr;
  llvm::DISubprogram *subprogram_ = nullptr;
  llvm::Function *function_ = nullptr;
  llvm::BasicBlock *entry_ = nullptr;
  CompiledProgram compiled_;
};

TEST(StackSharingCheck, BuffersAliveAtDifferentTimesDoNotAddUp) {
  MarkedIr ir;
  for (uint32_t line : {2u, 3u, 4u}) {
    llvm::Value *b = ir.buffer(400);
    ir.start(b, line);
    ir.end(b);
  }
  EXPECT_EQ(ir.check(), "");
}

TEST(StackSharingCheck, BuffersAliveTogetherAddUpWithUnmarkedOnes) {
  MarkedIr ir;
  llvm::Value *variable = ir.buffer(64); // no markers: alive throughout
  ir.builder().CreateStore(ir.builder().getInt64(1), variable, true);
  llvm::Value *a = ir.buffer(240), *b = ir.buffer(240), *c = ir.buffer(240);
  ir.start(a, 2);
  ir.end(a);
  ir.start(b, 3);
  ir.start(c, 4); // b is still alive: 64 + 240 + 240
  EXPECT_EQ(ir.check(),
            "test.ht:4:3: error: BPF stack limit exceeded: probe 'BEGIN' "
            "needs 544 bytes of stack, and a BPF program may use 512");
}

TEST(StackSharingCheck, ABufferAliveOnOneWayInIsAliveAtTheJoin) {
  MarkedIr ir;
  auto &b = ir.builder();
  llvm::Value *a = ir.buffer(300), *c = ir.buffer(300);
  auto *left = llvm::BasicBlock::Create(b.getContext(), "left", ir.function());
  auto *right =
      llvm::BasicBlock::Create(b.getContext(), "right", ir.function());
  auto *join = llvm::BasicBlock::Create(b.getContext(), "join", ir.function());
  b.CreateCondBr(b.getTrue(), left, right);
  b.SetInsertPoint(left);
  ir.start(a, 2);
  ir.end(a);
  b.CreateBr(join);
  b.SetInsertPoint(right);
  ir.start(a, 3); // not ended on this way
  b.CreateBr(join);
  b.SetInsertPoint(join);
  ir.start(c, 4);
  EXPECT_EQ(ir.check(),
            "test.ht:4:3: error: BPF stack limit exceeded: probe 'BEGIN' "
            "needs 608 bytes of stack, and a BPF program may use 512");
}

} // namespace
} // namespace hvt
