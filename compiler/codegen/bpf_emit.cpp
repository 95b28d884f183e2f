// LLVM module -> optimized BPF ELF object, in memory. No clang, no files.
#include "codegen/bpf_limits.h"
#include "codegen/codegen.h"
#include "codegen/log2_bucket.h"
#include "codegen/optimizer.h"
#include "codegen/ring_buffer_size.h"
#include "codegen/stack_lifetimes.h"
#include "timeline.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/ManagedStatic.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_os_ostream.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <mutex>
#include <unistd.h>

extern "C" {
void LLVMInitializeBPFTargetInfo();
void LLVMInitializeBPFTarget();
void LLVMInitializeBPFTargetMC();
void LLVMInitializeBPFAsmPrinter();
}

namespace hvt {

namespace {

std::unique_ptr<llvm::TargetMachine> bpf_target_machine(std::string &error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeBPFTargetInfo();
    LLVMInitializeBPFTarget();
    LLVMInitializeBPFTargetMC();
    LLVMInitializeBPFAsmPrinter();
  });
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget("bpfel", error);
  if (!target)
    return nullptr;
  // v3: 32-bit sub-registers and jmp32 (kernels >= 5.1). The backend at
  // its default level (clang -O2's): on every script, test program and
  // benchmark program it emits the same code as at -O3 or less (one
  // program, 3 instructions), ~0.3 ms sooner.
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      "bpfel", "v3", "", llvm::TargetOptions(), std::nullopt, std::nullopt,
      llvm::CodeGenOptLevel::Default));
}

bool emit(llvm::Module &module, llvm::TargetMachine &machine,
          llvm::CodeGenFileType type, llvm::SmallVectorImpl<char> &out) {
  llvm::raw_svector_ostream stream(out);
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, stream, nullptr, type))
    return false;
  passes.run(module);
  return true;
}

// Optimizes, checks BPF's limits and emits. `program` and `semantic` (may be
// null) only sharpen the ranges of limit diagnostics.
bool emit_checked_object(llvm::Module &module, const CodegenOptions &options,
                         const ast::Program *program,
                         const SemanticResult *semantic,
                         CompiledProgram &compiled, Diagnostics &diags) {
  timeline_mark("ir");
  std::string error;
  auto machine = bpf_target_machine(error);
  if (!machine) {
    diags.error({}, "LLVM has no BPF target: " + error);
    return false;
  }
  module.setDataLayout(machine->createDataLayout());
  if (!check_code_size(module, compiled, program, semantic, diags))
    return false;

  if (options.dump_ir) {
    llvm::raw_os_ostream os(*options.dump_ir);
    module.print(os, nullptr);
  }
  std::string verify_errors;
  llvm::raw_string_ostream verify_stream(verify_errors);
  if (llvm::verifyModule(module, &verify_stream)) {
    diags
        .error({},
               "internal error: invalid LLVM IR generated: " + verify_errors)
        .hint("please report this with the program that caused it");
    return false;
  }
  if (options.optimizer == Optimizer::Chosen) {
    optimize_for_bpf(module, *machine);
  } else if (options.optimizer == Optimizer::Default) {
    if (!options.default_pipeline) {
      diags.error({}, "internal error: LLVM's default optimizer pipeline is "
                      "not linked into this code generator");
      return false;
    }
    options.default_pipeline(module, *machine);
  }
  expand_log2_calls(module);
  drop_lifetime_only_blocks(module);
  if (options.dump_ir_optimized) {
    llvm::raw_os_ostream os(*options.dump_ir_optimized);
    module.print(os, nullptr);
  }
  if (!check_stack_usage(module, compiled, program, diags))
    return false;
  timeline_mark("optimized");
  if (options.checked)
    options.checked();
  BackendDiagnostics backend(module.getContext());
  if (options.dump_asm) {
    // Emitting consumes the module's codegen state; use a clone.
    llvm::SmallVector<char, 0> text;
    auto clone = llvm::CloneModule(module);
    if (emit(*clone, *machine, llvm::CodeGenFileType::AssemblyFile, text) &&
        backend.problems().empty())
      *options.dump_asm << std::string_view(text.data(), text.size());
  }
  llvm::SmallVector<char, 0> object;
  if (!emit(module, *machine, llvm::CodeGenFileType::ObjectFile, object)) {
    diags.error({}, "internal error: LLVM cannot emit a BPF object");
    return false;
  }
  timeline_mark("emitted");
  if (!backend.report(compiled, program, diags))
    return false;
  compiled.elf.assign(object.begin(), object.end());
  return check_program_sizes(compiled.elf, compiled, diags);
}

// An LLVM module and its context. Freeing them takes ~0.1 ms, which the
// start of tracing need not wait for: the last one is freed with the code
// generator (unloaded once the probes are attached) or by the next compile.
struct Compilation {
  std::unique_ptr<llvm::LLVMContext> context =
      std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
  ~Compilation() { module.reset(); } // before its context
};

// LLVM makes some globals on first use (the command-line option registry,
// an entry per option) and frees them only in llvm_shutdown(): done when the
// code generator is unloaded (or the process exits), after the last
// compilation is freed (retire()'s, made later, goes first), so that they
// are not leaked (LeakSanitizer reported ~88 KB at every compiling run).
llvm::llvm_shutdown_obj shutdown_llvm_at_unload;

void retire(std::unique_ptr<Compilation> compilation) {
  static std::mutex lock;
  static std::unique_ptr<Compilation> retired;
  std::unique_ptr<Compilation> previous;
  std::lock_guard<std::mutex> guard(lock);
  previous = std::move(retired); // freed after the lock is released
  retired = std::move(compilation);
}

} // namespace

bool emit_bpf_object(llvm::Module &module, const CodegenOptions &options,
                     CompiledProgram &compiled, Diagnostics &diags) {
  return emit_checked_object(module, options, nullptr, nullptr, compiled,
                             diags);
}

std::optional<CompiledProgram> compile_to_bpf(const ast::Program &program,
                                              const SemanticResult &semantic,
                                              const SourceFile &source,
                                              const CodegenOptions &options,
                                              Diagnostics &diags) {
  auto compilation = std::make_unique<Compilation>();
  CompiledProgram compiled;
  compilation->module =
      generate_ir(*compilation->context, program, semantic, source, compiled);
  llvm::Module &module = *compilation->module;
  long page_size = sysconf(_SC_PAGESIZE);
  compiled.ringbuf_size = ring_buffer_size(
      module, compiled, page_size > 0 ? static_cast<uint32_t>(page_size) : 0);
  bool emitted = emit_checked_object(module, options, &program, &semantic,
                                     compiled, diags);
  retire(std::move(compilation));
  if (!emitted)
    return std::nullopt;
  return compiled;
}

} // namespace hvt
