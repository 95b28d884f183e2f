// The BPF target's own IR passes that can change IR hvt generates. LLVM
// declares them in lib/Target/BPF/BPF.h, which is not installed; these are
// the same declarations (LLVM 19), for the classes libLLVMBPFCodeGen.a
// defines. hvt runs them itself (optimizer.cpp) where LLVM's PassBuilder
// would: the BPF target adds them to a pipeline only through a PassBuilder,
// and linking PassBuilder links every LLVM pass into the code generator.
//
// Left out, because they only rewrite intrinsics hvt never emits: the CO-RE
// passes (BPFAbstractMemberAccessPass, BPFPreserveDITypePass: the
// llvm.preserve.*.access.index and llvm.bpf.btf.type.id intrinsics) and
// BPFPreserveStaticOffsetPass (llvm.preserve.static.offset).
#pragma once

#include <llvm/IR/PassManager.h>

namespace llvm {

// Keeps later passes from rewriting comparisons and moving code in ways the
// verifier cannot follow (run where PassBuilder's early-simplification
// extension point is).
class BPFAdjustOptPass : public PassInfoMixin<BPFAdjustOptPass> {
public:
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &AM);
};

// Removes llvm.stacksave/stackrestore pairs (run first).
class BPFIRPeepholePass : public PassInfoMixin<BPFIRPeepholePass> {
public:
  PreservedAnalyses run(Function &F, FunctionAnalysisManager &AM);
  static bool isRequired() { return true; }
};

// Folds address-space casts (run at PassBuilder's peephole extension point).
class BPFASpaceCastSimplifyPass
    : public PassInfoMixin<BPFASpaceCastSimplifyPass> {
public:
  PreservedAnalyses run(Function &F, FunctionAnalysisManager &AM);
  static bool isRequired() { return true; }
};

} // namespace llvm
