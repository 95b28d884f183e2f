// Kernel limits that hvt checks itself, so that a program the verifier
// would refuse is reported with hvt's own message and the script line,
// before anything is loaded. Private to compiler/codegen.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "passes/semantic.h"
#include "program.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class DiagnosticHandler;
class LLVMContext;
class Module;
} // namespace llvm

namespace hvt {

// Stack bytes the verifier gives one BPF program (MAX_BPF_STACK).
constexpr uint32_t kBpfStackLimit = 512;
// Instructions one program may have (BPF_COMPLEXITY_LIMIT_INSNS); the
// verifier also stops after processing this many.
constexpr uint64_t kBpfInstructionLimit = 1000000;

// Instructions of LLVM IR, as generated (before optimization), that one
// program and a whole module may have. LLVM's compile time grows with a
// function's size, faster than linearly past a few tens of thousands of
// instructions, and a wildcard compiles its probe once per attach point:
// without a bound, a one-line program took minutes and gigabytes (found by
// fuzzing). At these limits the slowest programs measured compile in ~4 s;
// real programs stay far below them (a 720-attach-point syscall latency
// tool has 67,000 in all, a single probe rarely more than a thousand).
constexpr uint64_t kMaxProgramIrInstructions = 32768;
constexpr uint64_t kMaxModuleIrInstructions = 131072;

// Reports a program of `module` over `program_limit` instructions, at the
// statement of its probe that has the most code, or else the module if it
// is over `module_limit` in all, at the attach point whose programs have the
// most code. Runs before optimization; code generation stops early once
// over `module_limit`, so `semantic` (if given) supplies how many attach
// points a wildcard matched. Returns false if anything was reported.
bool check_code_size(const llvm::Module &module,
                     const CompiledProgram &compiled,
                     const ast::Program *program,
                     const SemanticResult *semantic, Diagnostics &diags,
                     uint64_t program_limit = kMaxProgramIrInstructions,
                     uint64_t module_limit = kMaxModuleIrInstructions);

// Adds up the stack buffers of every program in the optimized `module` (the
// allocas that survive optimization are what the BPF backend puts in the
// frame) and reports each program over `limit`, at the statement where its
// stack use crosses the limit. `program`, if given, supplies the statements'
// full ranges; otherwise diagnostics point at their first character. In
// programs with lifetime markers only the buffers alive at the same time
// add up (the most at any one point). Returns false if anything was
// reported.
bool check_stack_usage(const llvm::Module &module,
                       const CompiledProgram &compiled,
                       const ast::Program *program, Diagnostics &diags,
                       uint32_t limit = kBpfStackLimit);

// Counts the instructions of every program in the emitted ELF object and
// reports each one over `limit`. Returns false if anything was reported.
bool check_program_sizes(const std::vector<uint8_t> &elf,
                         const CompiledProgram &compiled, Diagnostics &diags,
                         uint64_t limit = kBpfInstructionLimit);

// LLVM reports backend problems (such as the BPF stack limit, which
// register spills can push a program over after check_stack_usage passed)
// through its context's diagnostic handler, whose default prints them and
// calls exit(1). While an instance lives, it collects them instead, so they
// become hvt diagnostics.
class BackendDiagnostics {
public:
  struct Problem {
    std::string message;
    std::string function; // the program, when LLVM names it
    SourceLocation where; // line 0: unknown
    bool stack_limit = false;
  };

  explicit BackendDiagnostics(llvm::LLVMContext &context);
  ~BackendDiagnostics();
  BackendDiagnostics(const BackendDiagnostics &) = delete;
  BackendDiagnostics &operator=(const BackendDiagnostics &) = delete;

  const std::vector<Problem> &problems() const { return problems_; }

  // Reports every problem collected so far; false if there were any. A
  // stack overflow is the program's; anything else is an hvt bug.
  bool report(const CompiledProgram &compiled, const ast::Program *program,
              Diagnostics &diags) const;

private:
  llvm::LLVMContext &context_;
  std::vector<Problem> problems_;
  std::unique_ptr<llvm::DiagnosticHandler> previous_;
};

} // namespace hvt
