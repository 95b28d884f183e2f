// Codegen marks each statement's stack buffers with llvm.lifetime.start/end
// (codegen.cpp, stack_buffer()) so that LLVM's stack coloring lets
// statements share stack bytes. This is the clean-up that keeps those
// markers from costing instructions. Private to compiler/codegen.
#pragma once

namespace llvm {
class Module;
} // namespace llvm

namespace hvt {

// On the optimized module, just before the BPF backend: removes the
// lifetime ends of blocks that hold nothing else but a branch. Jump
// threading leaves such blocks behind (a copy of a statement's last block
// for one of its paths); with the markers gone the backend folds them away,
// while with them each costs a jump. A buffer then stays alive a little
// longer on that path, which only ever makes the frame larger, never wrong.
void drop_lifetime_only_blocks(llvm::Module &module);

} // namespace hvt
