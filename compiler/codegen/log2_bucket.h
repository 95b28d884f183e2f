// hist()'s log2, kept out of the optimizer's way (docs/performance.md,
// "hist()'s log2"). Codegen calls a placeholder, hvt.log2(v), for the
// floor(log2(v)) of a positive v; the optimizer treats it as a pure function
// it cannot look into, and expand_log2_calls() puts the binary search in its
// place just before the BPF backend, as branches. Written as a chain of
// selects, the search cost LLVM ~2 ms of kvmexits.ht's compile (known bits
// computed through every select, by the optimizer and the backend alike)
// and 6 instructions a step; as branches, 3.
// Private to compiler/codegen.
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace hvt {

// A call of the placeholder on `v` (an i64 greater than zero).
llvm::Value *call_log2(llvm::IRBuilder<> &builder, llvm::Value *v);

// Replaces every call of the placeholder in `module` by the computation.
void expand_log2_calls(llvm::Module &module);

} // namespace hvt
