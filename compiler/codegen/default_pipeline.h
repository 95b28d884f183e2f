// LLVM's default O2 optimizer pipeline, which tests compare hvt's own
// (optimizer.h) against. Linked only into them: see
// CodegenOptions::default_pipeline.
#pragma once

#include "codegen/codegen.h"

namespace hvt {

// LLVM's O2 pipeline, with the BPF target's passes, as clang -O2 runs it.
void run_llvm_default_pipeline(llvm::Module &module,
                               llvm::TargetMachine &machine);

} // namespace hvt
