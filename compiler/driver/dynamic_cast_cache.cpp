#include "driver/dynamic_cast_cache.h"

// The C++ runtime's implementation, reached through the linker's --wrap.
extern "C" void *__real___dynamic_cast(const void *src, const void *src_type,
                                       const void *dst_type,
                                       std::ptrdiff_t src2dst);

namespace hvt {

namespace {

struct Entry {
  const void *vptr = nullptr;
  const void *src_type = nullptr;
  const void *dst_type = nullptr;
  std::ptrdiff_t hint = 0;
  std::ptrdiff_t delta = 0;
  bool found = false;
};

// Direct-mapped, per thread (no locking). Parsing kvmexits.ht makes 48,000
// casts of about 300 distinct kinds.
constexpr size_t kEntries = 256;
thread_local Entry cache[kEntries];
thread_local DynamicCastCacheStats stats;

} // namespace

DynamicCastCacheStats dynamic_cast_cache_stats() { return stats; }

} // namespace hvt

extern "C" void *__wrap___dynamic_cast(const void *src, const void *src_type,
                                       const void *dst_type,
                                       std::ptrdiff_t src2dst) {
  using hvt::cache;
  // The compiler tests for null before calling; a null here is passed on.
  if (!src)
    return __real___dynamic_cast(src, src_type, dst_type, src2dst);
  const void *vptr = *static_cast<const void *const *>(src);
  uintptr_t slot = (reinterpret_cast<uintptr_t>(vptr) >> 3) ^
                   (reinterpret_cast<uintptr_t>(dst_type) >> 4) * 31;
  hvt::Entry &e = cache[slot % hvt::kEntries];
  if (e.vptr == vptr && e.dst_type == dst_type && e.src_type == src_type &&
      e.hint == src2dst) {
    ++hvt::stats.hits;
    return e.found
               ? const_cast<char *>(static_cast<const char *>(src)) + e.delta
               : nullptr;
  }
  ++hvt::stats.misses;
  void *result = __real___dynamic_cast(src, src_type, dst_type, src2dst);
  e.vptr = vptr;
  e.src_type = src_type;
  e.dst_type = dst_type;
  e.hint = src2dst;
  e.found = result != nullptr;
  e.delta = result ? static_cast<const char *>(result) -
                         static_cast<const char *>(src)
                   : 0;
  return result;
}
