#include "driver/heap_prefault.h"

#include <algorithm>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace hvt {

namespace {

// glibc's defaults (mallopt(3)), put back once the compile is done.
constexpr int kDefaultMallocThreshold = 128 * 1024;
// While compiling: glibc's largest mmap threshold.
constexpr int kRaisedMallocThreshold = 32 << 20;
// The compiling thread's next allocations (while it loads the code
// generator) come from the start of the reserve: populating starts past
// them, so that the two threads do not fault the same pages in at once.
constexpr std::size_t kLeadBytes = 256 * 1024;
// Each call holds the address space's lock for reading, and loading the
// code generator takes it for writing (mmap, mprotect): short steps.
constexpr std::size_t kStepBytes = 64 * 1024;
// A block further than this below the heap's end is not in the brk heap.
constexpr std::uintptr_t kMaxHeapSpan = std::uintptr_t(1) << 30;

} // namespace

HeapPrefault::HeapPrefault(std::size_t bytes) {
  const std::size_t reserve = kLeadBytes + bytes;
  // A block this big would otherwise get an mmap() of its own, not grow
  // the heap; freed, it rejoins the top of the heap, which the raised trim
  // threshold keeps, and the compile's next allocations are carved from it.
  mallopt(M_MMAP_THRESHOLD, kRaisedMallocThreshold);
  mallopt(M_TRIM_THRESHOLD, kRaisedMallocThreshold);
  void *block = malloc(reserve);
  if (!block)
    return;
  const auto start = reinterpret_cast<std::uintptr_t>(block);
  free(block);
  const auto heap_end = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const std::uintptr_t page = getpagesize();
  const std::uintptr_t first = (start + page - 1) / page * page + kLeadBytes;
  const std::uintptr_t last = (start + reserve) / page * page;
  // A sanitizer's allocator, or glibc when the heap cannot grow, put the
  // block elsewhere: nothing is populated then.
  if (heap_end == std::uintptr_t(-1) || start >= heap_end ||
      heap_end - start > kMaxHeapSpan || last > heap_end || first >= last)
    return;
  range_ = {first, last};
}

HeapPrefault::~HeapPrefault() {
  mallopt(M_MMAP_THRESHOLD, kDefaultMallocThreshold);
  mallopt(M_TRIM_THRESHOLD, kDefaultMallocThreshold);
}

void PrefaultRange::populate() const {
  for (std::uintptr_t at = begin; at < end; at += kStepBytes) {
    // Before Linux 5.14: EINVAL, and the compile faults its pages in itself;
    // ENOMEM once the range is no longer mapped.
    if (madvise(reinterpret_cast<void *>(at), std::min(kStepBytes, end - at),
                MADV_POPULATE_WRITE) != 0)
      return;
  }
}

} // namespace hvt
