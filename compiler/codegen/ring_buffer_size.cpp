#include "codegen/ring_buffer_size.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

#include <linux/bpf.h>

#include <set>

namespace hvt {

namespace {

// The BPF helper number a call goes to (hvt calls helpers through
// inttoptr constants), or 0.
uint64_t helper_of(const llvm::CallInst &call) {
  const llvm::Value *callee = call.getCalledOperand();
  if (const auto *cast = llvm::dyn_cast<llvm::ConstantExpr>(callee))
    if (cast->getOpcode() == llvm::Instruction::IntToPtr)
      if (const auto *number =
              llvm::dyn_cast<llvm::ConstantInt>(cast->getOperand(0)))
        return number->getZExtValue();
  return 0;
}

// Blocks that can run more than once per run of `function`: those on a
// cycle of the control flow graph.
std::set<const llvm::BasicBlock *> blocks_in_cycles(
    const llvm::Function &function) {
  std::set<const llvm::BasicBlock *> result;
  for (const llvm::BasicBlock &start : function) {
    // Is `start` reachable from one of its successors?
    std::set<const llvm::BasicBlock *> seen;
    std::vector<const llvm::BasicBlock *> work(succ_begin(&start),
                                               succ_end(&start));
    while (!work.empty()) {
      const llvm::BasicBlock *block = work.back();
      work.pop_back();
      if (block == &start) {
        result.insert(&start);
        break;
      }
      if (!seen.insert(block).second)
        continue;
      work.insert(work.end(), succ_begin(block), succ_end(block));
    }
  }
  return result;
}

// Bytes the records written by `function` take in the ring buffer, or
// nullopt when that is not bounded.
std::optional<uint64_t> record_bytes(const llvm::Function &function) {
  uint64_t total = 0;
  std::set<const llvm::BasicBlock *> loops;
  bool loops_known = false;
  for (const llvm::BasicBlock &block : function) {
    for (const llvm::Instruction &inst : block) {
      const auto *call = llvm::dyn_cast<llvm::CallInst>(&inst);
      if (!call)
        continue;
      uint64_t helper = helper_of(*call);
      // output(map, data, size, flags); reserve(map, size, flags)
      unsigned size_arg = helper == BPF_FUNC_ringbuf_output    ? 2
                          : helper == BPF_FUNC_ringbuf_reserve ? 1
                                                               : 0;
      if (size_arg == 0)
        continue;
      const auto *size =
          llvm::dyn_cast<llvm::ConstantInt>(call->getArgOperand(size_arg));
      if (!size)
        return std::nullopt;
      if (!loops_known) {
        loops = blocks_in_cycles(function);
        loops_known = true;
      }
      if (loops.count(&block))
        return std::nullopt;
      // Each record has an 8-byte header and is padded to 8 bytes.
      total += 8 + ((size->getZExtValue() + 7) & ~uint64_t{7});
    }
  }
  return total;
}

} // namespace

uint32_t ring_buffer_size(const llvm::Module &module,
                          const CompiledProgram &compiled, uint32_t page_size) {
  const llvm::GlobalVariable *ringbuf =
      module.getNamedGlobal(compiled.ringbuf_name);
  if (!ringbuf || page_size == 0 || (page_size & (page_size - 1)) != 0)
    return compiled.ringbuf_size;
  std::set<std::string> begin_end;
  for (const auto &probe : compiled.probes)
    if (probe.kind == ProbeKind::Begin || probe.kind == ProbeKind::End)
      begin_end.insert(probe.program_name);
  // Every function that refers to the ring buffer must be BEGIN or END.
  std::set<const llvm::Function *> writers;
  std::vector<const llvm::User *> users(ringbuf->user_begin(),
                                        ringbuf->user_end());
  while (!users.empty()) {
    const llvm::User *user = users.back();
    users.pop_back();
    if (const auto *inst = llvm::dyn_cast<llvm::Instruction>(user)) {
      writers.insert(inst->getFunction());
    } else if (llvm::isa<llvm::ConstantExpr>(user)) {
      users.insert(users.end(), user->user_begin(), user->user_end());
    } else {
      return compiled.ringbuf_size; // referred to from data: keep the default
    }
  }
  uint64_t needed = 0;
  for (const llvm::Function *function : writers) {
    if (!begin_end.count(function->getName().str()))
      return compiled.ringbuf_size;
    auto bytes = record_bytes(*function);
    if (!bytes)
      return compiled.ringbuf_size;
    // BEGIN's records are read after it ends, END's after it ends: one run's
    // worth at a time.
    needed = std::max(needed, *bytes);
  }
  uint64_t size = page_size;
  while (size < needed && size < compiled.ringbuf_size)
    size *= 2;
  return static_cast<uint32_t>(std::min<uint64_t>(size, compiled.ringbuf_size));
}

} // namespace hvt
