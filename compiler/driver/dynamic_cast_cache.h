// A cache in front of the C++ runtime's __dynamic_cast, for the hvt binary
// (docs/performance.md, "dynamic_cast"). ANTLR's parser casts its ATN
// nodes and parse-tree contexts with dynamic_cast tens of thousands of times
// per parse, and every failed comparison of two type_infos inside
// libstdc++ is a strcmp() of their mangled names: ~15% of the front end's
// time. The binary is linked with -Wl,--wrap=__dynamic_cast, which sends
// every such call here first.
//
// Why a cache is exact: the result of a cast of `src` depends on the
// complete object's type and on which of its subobjects `src` points to,
// and both are fixed by the subobject's vtable pointer (each base subobject
// of each complete type, and each construction vtable, has its own). So
// (vtable pointer, source type, target type, hint) always gives the same
// offset from `src`, or always fails.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hvt {

// Calls answered from the cache and calls passed on, on this thread
// (tests check that the wrapper is really in use).
struct DynamicCastCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
};
DynamicCastCacheStats dynamic_cast_cache_stats();

} // namespace hvt
