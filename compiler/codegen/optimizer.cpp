// hvt's IR optimizer pipeline (optimizer.h).
//
// LLVM's default O2 pipeline runs ~120 passes, and most have nothing to do in
// hvt's IR (no calls to inline, no globals to optimize, few loops). This one
// runs the passes that matter for the IR codegen.cpp writes; on every script,
// test and benchmark program it emits the same instructions as O2 or fewer
// (tests/codegen/optimizer_pipeline_test.cpp).
//
// It does not use llvm::PassBuilder: PassBuilder.cpp can parse any pass's
// name, so linking it links every LLVM pass and their ~140 static
// initializers into the code generator, which every compiling start loads.
// The analyses are registered here instead, and the BPF target's IR passes
// (bpf_target_passes.h) are added where PassBuilder's extension points
// would put them.
#include "codegen/optimizer.h"
#include "codegen/bpf_target_passes.h"

#include <llvm/Analysis/AliasAnalysis.h>
#include <llvm/Analysis/AssumptionCache.h>
#include <llvm/Analysis/BasicAliasAnalysis.h>
#include <llvm/Analysis/BlockFrequencyInfo.h>
#include <llvm/Analysis/BranchProbabilityInfo.h>
#include <llvm/Analysis/CFG.h>
#include <llvm/Analysis/CycleAnalysis.h>
#include <llvm/Analysis/IVUsers.h>
#include <llvm/Analysis/LazyValueInfo.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/MemoryDependenceAnalysis.h>
#include <llvm/Analysis/MemorySSA.h>
#include <llvm/Analysis/OptimizationRemarkEmitter.h>
#include <llvm/Analysis/PhiValues.h>
#include <llvm/Analysis/PostDominators.h>
#include <llvm/Analysis/ProfileSummaryInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScopedNoAliasAA.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/Analysis/TypeBasedAliasAnalysis.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassInstrumentation.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/DeadStoreElimination.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/GVN.h>
#include <llvm/Transforms/Scalar/IndVarSimplify.h>
#include <llvm/Transforms/Scalar/JumpThreading.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/LoopDeletion.h>
#include <llvm/Transforms/Scalar/LoopInstSimplify.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>
#include <llvm/Transforms/Scalar/LoopRotation.h>
#include <llvm/Transforms/Scalar/LoopSimplifyCFG.h>
#include <llvm/Transforms/Scalar/LoopUnrollPass.h>
#include <llvm/Transforms/Scalar/MemCpyOptimizer.h>
#include <llvm/Transforms/Scalar/SROA.h>
#include <llvm/Transforms/Scalar/SimpleLoopUnswitch.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>

namespace hvt {

namespace {

// The analyses the passes below ask for, as PassBuilder registers them
// (its default alias analysis stack: basic, scoped no-alias, type-based).
struct Analyses {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::ModuleAnalysisManager modules;

  explicit Analyses(llvm::TargetMachine &machine) {
    using namespace llvm;
    functions.registerPass([&] { return machine.getTargetIRAnalysis(); });
    functions.registerPass([] { return TargetLibraryAnalysis(); });
    functions.registerPass([] {
      AAManager aa;
      aa.registerFunctionAnalysis<BasicAA>();
      aa.registerFunctionAnalysis<ScopedNoAliasAA>();
      aa.registerFunctionAnalysis<TypeBasedAA>();
      return aa;
    });
    functions.registerPass([] { return BasicAA(); });
    functions.registerPass([] { return ScopedNoAliasAA(); });
    functions.registerPass([] { return TypeBasedAA(); });
    functions.registerPass([] { return AssumptionAnalysis(); });
    functions.registerPass([] { return DominatorTreeAnalysis(); });
    functions.registerPass([] { return PostDominatorTreeAnalysis(); });
    functions.registerPass([] { return LoopAnalysis(); });
    functions.registerPass([] { return CycleAnalysis(); });
    functions.registerPass([] { return MemorySSAAnalysis(); });
    functions.registerPass([] { return MemoryDependenceAnalysis(); });
    functions.registerPass([] { return LazyValueAnalysis(); });
    functions.registerPass([] { return BlockFrequencyAnalysis(); });
    functions.registerPass([] { return BranchProbabilityAnalysis(); });
    functions.registerPass([] { return OptimizationRemarkEmitterAnalysis(); });
    functions.registerPass([] { return ScalarEvolutionAnalysis(); });
    functions.registerPass([] { return PhiValuesAnalysis(); });
    functions.registerPass([] { return PassInstrumentationAnalysis(); });
    loops.registerPass([] { return PassInstrumentationAnalysis(); });
    loops.registerPass([] { return IVUsersAnalysis(); });
    // Asked for by IndVarSimplify (a hint for the loop unswitching O2 runs).
    loops.registerPass([] { return ShouldRunExtraSimpleLoopUnswitch(); });
    modules.registerPass([] { return PassInstrumentationAnalysis(); });
    modules.registerPass([] { return ProfileSummaryAnalysis(); });
    // Each manager reaches the others' results through proxies.
    modules.registerPass(
        [&] { return FunctionAnalysisManagerModuleProxy(functions); });
    functions.registerPass(
        [&] { return ModuleAnalysisManagerFunctionProxy(modules); });
    functions.registerPass(
        [&] { return LoopAnalysisManagerFunctionProxy(loops); });
    loops.registerPass(
        [&] { return FunctionAnalysisManagerLoopProxy(functions); });
  }
};

// What O2 does to a loop before its scalar cleanups: loop-invariant code
// hoisted, loops rotated, induction variables simplified, dead loops
// deleted and loops with a small constant trip count unrolled.
void add_loop_passes(llvm::FunctionPassManager &passes) {
  using namespace llvm;
  LoopPassManager canonical;
  canonical.addPass(LoopInstSimplifyPass());
  canonical.addPass(LoopSimplifyCFGPass());
  canonical.addPass(LICMPass(LICMOptions()));
  canonical.addPass(LoopRotatePass());
  canonical.addPass(LICMPass(LICMOptions()));
  passes.addPass(createFunctionToLoopPassAdaptor(std::move(canonical),
                                                 /*UseMemorySSA=*/true));
  passes.addPass(SimplifyCFGPass());
  passes.addPass(InstCombinePass());
  LoopPassManager unroll;
  unroll.addPass(IndVarSimplifyPass());
  unroll.addPass(LoopDeletionPass());
  unroll.addPass(LoopFullUnrollPass(/*OptLevel=*/2));
  passes.addPass(createFunctionToLoopPassAdaptor(std::move(unroll)));
  passes.addPass(SROAPass(SROAOptions::ModifyCFG));
}

} // namespace

bool has_loop(const llvm::Module &module) {
  llvm::SmallVector<
      std::pair<const llvm::BasicBlock *, const llvm::BasicBlock *>>
      back_edges;
  for (const llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    llvm::FindFunctionBackedges(function, back_edges);
    if (!back_edges.empty())
      return true;
  }
  return false;
}

void optimize_for_bpf(llvm::Module &module, llvm::TargetMachine &machine) {
  using namespace llvm;
  Analyses analyses(machine);
  ModulePassManager module_passes;
  // The BPF target's pipeline-start and early-simplification passes.
  FunctionPassManager first;
  first.addPass(BPFIRPeepholePass());
  module_passes.addPass(createModuleToFunctionPassAdaptor(std::move(first)));
  module_passes.addPass(BPFAdjustOptPass());

  FunctionPassManager passes;
  passes.addPass(SROAPass(SROAOptions::ModifyCFG));
  passes.addPass(EarlyCSEPass(/*UseMemorySSA=*/true));
  passes.addPass(InstCombinePass());
  passes.addPass(SimplifyCFGPass());
  // The BPF target's peephole passes.
  passes.addPass(SimplifyCFGPass(SimplifyCFGOptions().hoistCommonInsts(true)));
  passes.addPass(BPFASpaceCastSimplifyPass());
  if (has_loop(module))
    add_loop_passes(passes);
  // A map value read as zero when the lookup failed: jump straight to
  // where the zero is tested.
  passes.addPass(JumpThreadingPass());
  passes.addPass(GVNPass());
  passes.addPass(DSEPass()); // stack buffers written twice
  passes.addPass(MemCpyOptPass());
  passes.addPass(InstCombinePass());
  passes.addPass(SimplifyCFGPass());
  module_passes.addPass(createModuleToFunctionPassAdaptor(std::move(passes)));
  module_passes.run(module, analyses.modules);
}

} // namespace hvt
