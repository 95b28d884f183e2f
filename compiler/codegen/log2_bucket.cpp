#include "codegen/log2_bucket.h"

#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/KnownBits.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>

#include <algorithm>
#include <vector>

namespace hvt {

namespace {

constexpr const char *kPlaceholder = "hvt.log2";

} // namespace

llvm::Value *call_log2(llvm::IRBuilder<> &builder, llvm::Value *v) {
  llvm::Module &module = *builder.GetInsertBlock()->getModule();
  llvm::Type *i64 = builder.getInt64Ty();
  llvm::FunctionCallee placeholder = module.getOrInsertFunction(
      kPlaceholder, llvm::FunctionType::get(i64, {i64}, false));
  auto *function = llvm::cast<llvm::Function>(placeholder.getCallee());
  // Pure, so LLVM may merge or drop calls; not speculatable, so it stays
  // under the test that v is positive.
  function->setDoesNotAccessMemory();
  function->setDoesNotThrow();
  function->setWillReturn();
  return builder.CreateCall(placeholder, {v});
}

void expand_log2_calls(llvm::Module &module) {
  llvm::Function *placeholder = module.getFunction(kPlaceholder);
  if (!placeholder)
    return;
  std::vector<llvm::CallInst *> calls;
  for (llvm::User *user : placeholder->users())
    if (auto *call = llvm::dyn_cast<llvm::CallInst>(user))
      calls.push_back(call);
  for (llvm::CallInst *call : calls) {
    // The libbpf-tools binary search over the bits, one step per power of
    // two: "if x > 2^k - 1, x >>= k and k is in the log". BPF has no clz
    // instruction (LLVM expands ctlz into a popcount with 64-bit constants)
    // and no conditional move, so each step is a branch either way: as
    // branches in the IR the backend emits 3 instructions a step where
    // selects cost it 6, and its instruction selection is quicker.
    llvm::Value *x = call->getArgOperand(0);
    llvm::Type *i64 = x->getType();
    if (auto *constant = llvm::dyn_cast<llvm::ConstantInt>(x)) {
      // hist(1024): the bucket is known (the backend would not fold the
      // branches).
      uint64_t value = constant->getZExtValue();
      call->replaceAllUsesWith(llvm::ConstantInt::get(
          i64, value ? 63 - llvm::countl_zero(value) : 0));
      call->eraseFromParent();
      continue;
    }
    // What the optimizer would have seen through: a step whose test is
    // false for every value x can take (a 32-bit field needs no 32-bit
    // step) is left out.
    uint64_t bound = llvm::computeKnownBits(x, module.getDataLayout())
                         .getMaxValue()
                         .getZExtValue();
    llvm::Value *log2 = llvm::ConstantInt::get(i64, 0);
    for (uint64_t shift : {32, 16, 8, 4, 2}) {
      uint64_t below = (uint64_t{1} << shift) - 1;
      if (bound <= below)
        continue;
      bound = std::max(bound >> shift, below);
      llvm::BasicBlock *test = call->getParent();
      llvm::IRBuilder<> b(call);
      llvm::Value *big = b.CreateICmpUGT(x, b.getInt64(below));
      // test: ... br big, then, rest; then: br rest; rest: call ...
      llvm::Instruction *then =
          llvm::SplitBlockAndInsertIfThen(big, call, false);
      b.SetInsertPoint(then);
      llvm::Value *shifted = b.CreateLShr(x, shift);
      llvm::Value *with_step = b.CreateOr(log2, shift);
      b.SetInsertPoint(call);
      llvm::PHINode *x_after = b.CreatePHI(i64, 2);
      x_after->addIncoming(x, test);
      x_after->addIncoming(shifted, then->getParent());
      llvm::PHINode *log2_after = b.CreatePHI(i64, 2);
      log2_after->addIncoming(log2, test);
      log2_after->addIncoming(with_step, then->getParent());
      x = x_after;
      log2 = log2_after;
    }
    llvm::IRBuilder<> b(call);
    // x is 1, 2 or 3 here.
    log2 = b.CreateOr(log2, b.CreateLShr(x, 1));
    log2->takeName(call);
    call->replaceAllUsesWith(log2);
    call->eraseFromParent();
  }
  placeholder->eraseFromParent();
}

} // namespace hvt
