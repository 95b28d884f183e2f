// Faults in, on another thread, the heap memory a compile is about to use.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hvt {

// --- performance: a compile's first writes to fresh heap pages cost ~300
// page faults on the thread that runs LLVM (~1.4 us each here). The thread
// that ran the front end is idle by then, so it maps those pages in
// advance (docs/performance.md, "The heap, faulted in ahead").
//
// The constructor runs on the compiling thread before the work starts: it
// grows the heap by `bytes` past what is in use and raises malloc's mmap
// and trim thresholds, so that the compile's allocations, big ones too
// (LLVM's TargetMachine, ~400 KiB), are carved from that top of the heap
// and free() does not give it back. The destructor restores glibc's
// defaults. range().populate() maps the reserved pages in, writable, from
// any thread, even once the HeapPrefault is gone: the kernel fills them
// without changing any byte, so memory malloc has handed out meanwhile is
// safe, and a range no longer mapped is left alone. Where the heap is not
// glibc's brk heap (a sanitizer's allocator), the range is empty.
struct PrefaultRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;

  void populate() const;
};

class HeapPrefault {
public:
  explicit HeapPrefault(std::size_t bytes);
  ~HeapPrefault();
  HeapPrefault(const HeapPrefault &) = delete;
  HeapPrefault &operator=(const HeapPrefault &) = delete;

  PrefaultRange range() const { return range_; }

private:
  PrefaultRange range_;
};

} // namespace hvt
