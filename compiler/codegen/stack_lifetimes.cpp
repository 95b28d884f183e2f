#include "codegen/stack_lifetimes.h"

#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace hvt {

void drop_lifetime_only_blocks(llvm::Module &module) {
  std::vector<llvm::Instruction *> dead;
  for (auto &function : module)
    for (auto &block : function) {
      auto *branch = llvm::dyn_cast<llvm::BranchInst>(block.getTerminator());
      if (!branch || branch->isConditional() || block.size() < 2)
        continue;
      std::vector<llvm::Instruction *> ends;
      bool only_ends = true;
      for (auto &inst : block) {
        if (&inst == branch)
          break;
        auto *intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
        if (!intrinsic ||
            intrinsic->getIntrinsicID() != llvm::Intrinsic::lifetime_end) {
          only_ends = false;
          break;
        }
        ends.push_back(intrinsic);
      }
      if (only_ends)
        dead.insert(dead.end(), ends.begin(), ends.end());
    }
  for (auto *inst : dead)
    inst->eraseFromParent();
}

} // namespace hvt
