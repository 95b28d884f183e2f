// The IR optimizer run before the BPF backend (docs/performance.md, "The
// optimizer pipeline").
#pragma once

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace hvt {

// Optimizes `module` for the BPF backend `machine`: hvt's own pipeline, a
// dozen scalar passes, with LLVM's loop passes added when the module has a
// loop, and the BPF target's IR passes. Built without LLVM's PassBuilder,
// which would link every LLVM pass into the code generator.
void optimize_for_bpf(llvm::Module &module, llvm::TargetMachine &machine);

// Whether a function of `module` has a loop (a back edge): such a module
// gets the loop passes too.
bool has_loop(const llvm::Module &module);

} // namespace hvt
