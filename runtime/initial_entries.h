// Writes the maps' initial entries (MapDesc::initial_keys/initial_values:
// BEGIN's constant assignments, compiler/passes/initial_entries.h) into a
// loaded object, before BEGIN runs.
#pragma once

#include "program.h"

#include <string>

struct bpf_object;

namespace hvt {

// One bpf_map_update_batch() per map with entries; element by element where
// the kernel has no batch updates for the map type, and from the first
// refused entry on when the batch stops early. An entry the kernel refuses
// (the map is full) is dropped as BEGIN's own update would have been, and
// the exit warning about full maps reports it. Returns false, with the
// reason in `error`, only when a map cannot be written at all.
bool write_initial_entries(const CompiledProgram &program, bpf_object *object,
                           std::string &error);

} // namespace hvt
