// BEGIN tables: constant map assignments in BEGIN become initial entries
// that the runtime writes with one bpf_map_update_batch() after loading and
// before BEGIN runs, instead of one map update each in the BEGIN program
// (which, past ~30 string entries, also needed more than BPF's 512 bytes of
// stack). A 1,000-entry table then starts in milliseconds.
#pragma once

#include "frontend/ast.h"
#include "passes/semantic.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace hvt {

// collect_initial_entries() (declared in semantic.h with the other passes),
// after check_types(): for the program's BEGIN probe (when there is exactly
// one BEGIN attach point, in a probe of its own without a predicate), each
// top-level statement `@m[k1, ...] = v;` whose keys and value are integer or
// string literals and whose map
//  - holds plain values (no aggregation) in a hash or LRU hash,
//  - has keys and values small enough for the statement to compile (its
//    buffers within BPF's 512-byte stack: a larger one stays in BEGIN and
//    is reported there, as without this pass), and
//  - is not mentioned by a statement before it that stays in BEGIN,
// and that no earlier `return` can skip, is appended to the map's
// MapDesc::initial_keys/initial_values (in `result.maps`) and recorded in
// `result.initial_entry_statements`, which codegen then skips. The bytes
// are exactly the key and value the BPF program would have stored.

// The bytes a literal stores into a slot of type `to` (`size` bytes,
// zero-padded), as codegen's store_value() would; nullopt when `e` is not
// an integer or string literal that fits the slot's kind. Exposed for tests.
std::optional<std::vector<uint8_t>>
literal_bytes(const ast::Expr &e, const Type &to, uint32_t size);

} // namespace hvt
