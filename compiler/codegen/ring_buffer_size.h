// --- performance: the output ring buffer's size (docs/performance.md).
// A program whose probes print nothing, and whose BEGIN and END print a
// bounded number of records, gets a ring buffer just large enough for them
// instead of the default 1 MiB, which costs time to create and map.
#pragma once

#include "program.h"

namespace llvm {
class Module;
} // namespace llvm

namespace hvt {

// The ring buffer size `compiled` needs, from the unoptimized `module`:
// compiled.ringbuf_size when a probe other than BEGIN/END writes to it or
// BEGIN/END write in a loop, else the smallest power-of-two number of pages
// holding every record that BEGIN, or END, can write in one run.
uint32_t ring_buffer_size(const llvm::Module &module,
                          const CompiledProgram &compiled, uint32_t page_size);

} // namespace hvt
