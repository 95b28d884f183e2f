// The cache in front of __dynamic_cast (compiler/driver/dynamic_cast_cache.h)
// gives the C++ runtime's answers: this test binary is linked with the same
// wrapper as hvt, so every dynamic_cast below (and the parser's, in the
// other front-end tests) goes through it.
#include "driver/dynamic_cast_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace hvt {
namespace {

struct Base {
  virtual ~Base() = default;
  int base = 1;
};
struct Left : Base {
  int left = 2;
};
struct Other {
  virtual ~Other() = default;
  int other = 3;
};
struct Both : Left, Other { // Other is at a non-zero offset
  int both = 4;
};
struct VLeft : virtual Base {
  int vleft = 5;
};
struct VRight : virtual Base {
  int vright = 6;
};
struct Diamond : VLeft, VRight {
  int diamond = 7;
};

// Every cast twice: the second is answered from the cache.
template <typename To, typename From> To *twice(From *from) {
  To *first = dynamic_cast<To *>(from);
  To *second = dynamic_cast<To *>(from);
  EXPECT_EQ(first, second);
  return first;
}

TEST(DynamicCastCache, DownUpAndCrossCastsGiveTheRuntimesAnswers) {
  DynamicCastCacheStats before = dynamic_cast_cache_stats();
  Both both;
  Left left;
  Base *as_base = static_cast<Left *>(&both);
  Other *as_other = &both;
  EXPECT_EQ(twice<Both>(as_base), &both);
  EXPECT_EQ(twice<Both>(as_other), &both);    // a non-zero adjustment
  EXPECT_EQ(twice<Other>(as_base), as_other); // a cross cast
  EXPECT_EQ(twice<Left>(as_other), static_cast<Left *>(&both));
  // The same cast on another object of the same type: the same offset.
  Both another;
  EXPECT_EQ(twice<Both>(static_cast<Other *>(&another)), &another);
  // Failures are cached as failures, and only for their own vtable.
  Base *plain = &left;
  EXPECT_EQ(twice<Both>(plain), nullptr);
  EXPECT_EQ(twice<Other>(plain), nullptr);
  EXPECT_EQ(twice<Both>(as_base), &both);
  DynamicCastCacheStats after = dynamic_cast_cache_stats();
  EXPECT_GE(after.hits - before.hits, 8u);
  EXPECT_GE(after.misses - before.misses, 1u);
}

TEST(DynamicCastCache, VirtualBasesAndManyTypes) {
  Diamond diamond;
  VLeft vleft;
  Base *from_diamond = static_cast<VLeft *>(&diamond);
  Base *from_vleft = &vleft;
  EXPECT_EQ(twice<Diamond>(from_diamond), &diamond);
  EXPECT_EQ(twice<VRight>(from_diamond), static_cast<VRight *>(&diamond));
  EXPECT_EQ(twice<VLeft>(from_vleft), &vleft);
  EXPECT_EQ(twice<VRight>(from_vleft), nullptr);
  EXPECT_EQ(twice<Diamond>(from_vleft), nullptr);
  // More objects than cache slots, of mixed types: slots are reused and
  // every answer is still right.
  std::vector<std::unique_ptr<Base>> objects;
  for (int i = 0; i < 3000; ++i) {
    if (i % 3 == 0)
      objects.push_back(std::make_unique<Both>());
    else if (i % 3 == 1)
      objects.push_back(std::make_unique<Diamond>());
    else
      objects.push_back(std::make_unique<Left>());
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < objects.size(); ++i) {
      Base *b = objects[i].get();
      EXPECT_EQ(dynamic_cast<Both *>(b) != nullptr, i % 3 == 0);
      EXPECT_EQ(dynamic_cast<Diamond *>(b) != nullptr, i % 3 == 1);
      EXPECT_EQ(dynamic_cast<Left *>(b) != nullptr, i % 3 != 1);
      if (i % 3 == 1)
        EXPECT_EQ(static_cast<void *>(dynamic_cast<VRight *>(b)),
                  static_cast<void *>(static_cast<VRight *>(
                      static_cast<Diamond *>(dynamic_cast<Diamond *>(b)))));
    }
  }
  // A reference cast that fails still throws.
  EXPECT_THROW((void)dynamic_cast<Both &>(*from_vleft), std::bad_cast);
}

} // namespace
} // namespace hvt
