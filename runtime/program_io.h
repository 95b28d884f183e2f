// Serialization of a CompiledProgram's metadata (everything except the ELF
// bytes) as JSON, so a compiled program can be stored and run later without
// the compiler (the compile cache, compiler/driver/cache.h). No LLVM, no
// libbpf.
#pragma once

#include "program.h"

#include <string>
#include <string_view>

namespace hvt {

// Bumped whenever the JSON layout below (or the meaning of a field of the
// contract in program.h) changes, so stored programs of an older layout are
// never read as current ones.
inline constexpr int kProgramFormatVersion = 6;

// The metadata of `program` (probes, maps, printf formats, print values,
// time formats, symbol tables, skipped attach points, the runtime's map
// names), without `program.elf`.
std::string program_metadata_to_json(const CompiledProgram &program);

// Fills every field of `program` except `elf` from JSON written by
// program_metadata_to_json(). Returns false, with a reason in `error`, on
// malformed input or values out of range; `program` is then unspecified.
bool program_metadata_from_json(std::string_view json, CompiledProgram &program,
                                std::string &error);

} // namespace hvt
