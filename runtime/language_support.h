// Kernel-side state of language features that the core runtime does not
// manage: the stack maps kstack/ustack values point into, the start time
// `elapsed` counts from, and the per-map counters of updates the kernel
// refused because a map was full. The runtime calls the two functions below
// at fixed points of a run; programs that use none of these features have
// nothing to set up and both calls do nothing.
#pragma once

#include "program.h"

#include <ostream>

struct bpf_object;

namespace hvt {

// Right after bpf_object__load() succeeded, before BEGIN runs: sets
// elapsed's start time to now and lets printed kstack/ustack values read
// this object's stack maps.
void start_language_support(const CompiledProgram &program, bpf_object *object);

// At exit, after the maps were printed and before the object is closed:
// warns on `err` about every map that dropped updates because it was full,
// e.g.
//   WARNING: @pids: 1520 updates dropped: the map is full (max 4096 entries)
//   hint: raise the limit with let @pids = hash(N), ...
// and stops reading the object's stack maps.
void finish_language_support(const CompiledProgram &program, bpf_object *object,
                             std::ostream &err);

// The warning text for `dropped` refused updates of `map` (exposed for
// tests).
std::string dropped_updates_warning(const MapDesc &map, uint64_t dropped);

} // namespace hvt
