// Code generation: typed AST -> LLVM IR (codegen.cpp) -> BPF ELF object in
// memory (bpf_emit.cpp). The only part of hvt that links LLVM.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "passes/semantic.h"
#include "program.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>

namespace llvm {
class Module;
class LLVMContext;
class TargetMachine;
} // namespace llvm

namespace hvt {

// Which IR optimizations run before the BPF backend (bpf_emit.cpp).
enum class Optimizer : uint8_t {
  Chosen,  // hvt's own pipeline (optimizer.h)
  Default, // LLVM's O2 pipeline: CodegenOptions::default_pipeline
  None,
};

// Runs an optimizer pipeline over `module` for the BPF `machine`.
using ModuleOptimizer = void (*)(llvm::Module &module,
                                 llvm::TargetMachine &machine);

struct CodegenOptions {
  Optimizer optimizer = Optimizer::Chosen;
  // Optimizer::Default's pipeline: LLVM's O2 from default_pipeline.h, which
  // only the tests that compare the two link (the code generator plugin
  // does not link LLVM's PassBuilder).
  ModuleOptimizer default_pipeline = nullptr;
  // Debug dumps (-d ir / ir-opt / asm); null means off.
  std::ostream *dump_ir = nullptr;
  std::ostream *dump_ir_optimized = nullptr;
  std::ostream *dump_asm = nullptr;
  // Called once the program passed every check of its own (the stack limit
  // last), just before the backend emits it: from then on only an LLVM
  // backend error stops it (hvt makes the run's maps then, on another
  // thread: runtime/objects_ahead.h). Does not change the output.
  std::function<void()> checked;
};

// Builds the LLVM module for `program` and fills in the metadata of
// `compiled` (probes, maps, printf formats). Exposed separately from emission
// so tests can check key IR lines.
std::unique_ptr<llvm::Module> generate_ir(llvm::LLVMContext &context,
                                          const ast::Program &program,
                                          const SemanticResult &semantic,
                                          const SourceFile &source,
                                          CompiledProgram &compiled);

// Optimizes `module` and emits it as a BPF ELF object into `compiled.elf`.
bool emit_bpf_object(llvm::Module &module, const CodegenOptions &options,
                     CompiledProgram &compiled, Diagnostics &diags);

// Both of the above.
std::optional<CompiledProgram> compile_to_bpf(const ast::Program &program,
                                              const SemanticResult &semantic,
                                              const SourceFile &source,
                                              const CodegenOptions &options,
                                              Diagnostics &diags);

} // namespace hvt
