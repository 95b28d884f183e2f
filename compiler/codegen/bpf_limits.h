// Kernel limits that hvt checks itself, so that a program the verifier
// would refuse is reported with hvt's own message and the script line,
// before anything is loaded. Private to compiler/codegen.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
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
