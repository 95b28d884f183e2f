// Kernel-side state of language features that the core runtime does not
// manage: the stack maps kstack/ustack values point into, the start time
// `elapsed` counts from, and warnings about hash maps that filled up. The
// runtime calls the two functions below at fixed points of a run; programs
// that use none of these features have nothing to set up and both calls do
// nothing.
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
// warns on `err` about every hash map that holds as many keys as it may
// (updates of new keys may have been refused), e.g.
//   WARNING: @pids is full (4096 entries): updates of new keys may have been
//   dropped
//   hint: raise the limit with let @pids = hash(N), ...
// and stops reading the object's stack maps.
void finish_language_support(const CompiledProgram &program, bpf_object *object,
                             std::ostream &err);

// The warning for a full hash map (exposed for tests).
std::string full_map_warning(const MapDesc &map);

} // namespace hvt
