// The compile's heap, reserved and faulted in ahead (driver/heap_prefault.h).
#include "driver/heap_prefault.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace hvt {
namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HVT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(HVT_TEST_ASAN)
constexpr bool kSanitizerAllocator = true;
#else
constexpr bool kSanitizerAllocator = false;
#endif

constexpr std::size_t kBytes = 1 << 20;

std::size_t resident_pages(const PrefaultRange &range) {
  const std::size_t page = getpagesize();
  std::vector<unsigned char> pages((range.end - range.begin) / page);
  if (mincore(reinterpret_cast<void *>(range.begin), range.end - range.begin,
              pages.data()) != 0)
    return 0;
  std::size_t resident = 0;
  for (unsigned char state : pages)
    resident += state & 1;
  return resident;
}

// Whether a block of `bytes` came from the brk heap (not an mmap() of its
// own): the heap lies below sbrk(0), mappings far above it.
bool comes_from_heap(std::size_t bytes) {
  void *block = malloc(bytes);
  bool on_heap = reinterpret_cast<std::uintptr_t>(block) <
                 reinterpret_cast<std::uintptr_t>(sbrk(0));
  free(block);
  return on_heap;
}

TEST(HeapPrefault, ReservesFreshHeapPagesAndPopulatesThem) {
  malloc_trim(0); // the reserve is then fresh memory, not yet faulted in
  HeapPrefault prefault(kBytes);
  PrefaultRange range = prefault.range();
  if (kSanitizerAllocator) {
    // Its heap is not glibc's brk heap: nothing to populate.
    EXPECT_EQ(range.begin, range.end);
    range.populate();
    return;
  }
  const std::size_t page = getpagesize();
  ASSERT_LT(range.begin, range.end);
  EXPECT_EQ(range.begin % page, 0u);
  EXPECT_GE(range.end - range.begin, kBytes - page);
  EXPECT_LE(range.end, reinterpret_cast<std::uintptr_t>(sbrk(0)));

  const std::size_t pages = (range.end - range.begin) / page;
  EXPECT_LT(resident_pages(range), pages / 2);
  range.populate();
  EXPECT_EQ(resident_pages(range), pages);

  // The compile's next big allocation is carved from the reserve.
  void *big = malloc(400 << 10);
  auto at = reinterpret_cast<std::uintptr_t>(big);
  EXPECT_LT(at, range.end);
  EXPECT_GE(at + (400 << 10), range.begin);
  free(big);
}

TEST(HeapPrefault, BigBlocksComeFromTheHeapOnlyWhileItIsAlive) {
  if (kSanitizerAllocator) {
    HeapPrefault prefault(kBytes); // no brk heap: nothing reserved
    EXPECT_EQ(prefault.range().begin, prefault.range().end);
    return;
  }
  // Both bigger than the reserve: glibc grows the heap for them, or maps
  // them on their own when they exceed its mmap threshold.
  {
    HeapPrefault prefault(kBytes);
    EXPECT_TRUE(comes_from_heap(4 << 20));
  }
  EXPECT_FALSE(comes_from_heap(16 << 20));
}

TEST(HeapPrefault, PopulatingARangeNoLongerMappedIsHarmless) {
  const std::size_t page = getpagesize();
  void *mapping = mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  PrefaultRange range{reinterpret_cast<std::uintptr_t>(mapping),
                      reinterpret_cast<std::uintptr_t>(mapping) + 4 * page};
  static_cast<char *>(mapping)[0] = 42;
  range.populate(); // contents kept
  EXPECT_EQ(static_cast<char *>(mapping)[0], 42);
  EXPECT_EQ(resident_pages(range), 4u);
  ASSERT_EQ(munmap(mapping, 4 * page), 0);
  range.populate(); // stops at the first step it cannot map
}

} // namespace
} // namespace hvt
