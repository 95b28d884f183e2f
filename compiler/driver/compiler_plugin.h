// hvt's compiler (ANTLR front end, semantic passes, LLVM code generator) is
// a plugin, libhvt_compiler.so, that the hvt binary loads only when it has
// to compile: a run served by the compile cache (cache.h) never maps LLVM or
// the ANTLR runtime, and a compiling run unloads the plugin again once its
// probes are attached, so the memory LLVM used is not held while tracing.
//
// The plugin is found, in order, at $HVT_COMPILER, next to the hvt binary
// (build tree), at ../lib/hvt/ from the binary (installation) and at the
// configured install prefix.
#pragma once

#include "driver/pipeline.h"
#include "program.h"

#include <cstdint>
#include <optional>
#include <string>

namespace hvt {

// compile() (pipeline.h) run by the plugin. A plugin that cannot be found or
// loaded, or that belongs to another hvt build, is an error in `diags`.
std::optional<CompiledProgram>
compile_with_plugin(const SourceFile &source, const CompileOptions &options,
                    Diagnostics &diags);

// Unloads the plugin (and LLVM with it) that compile_with_plugin() left
// loaded; a no-op when none is. Called once the probes are attached:
// unloading takes about a millisecond that tracing need not wait for.
void unload_compiler_plugin();

// "hvt VERSION BUILD-ID": changes whenever the plugin's output may change
// (read from the plugin file without loading it). "" when there is no
// plugin.
std::string compiler_identity();

// The path of the plugin that compile_with_plugin() uses, or "".
std::string compiler_plugin_path();

// --- the plugin's side ------------------------------------------------------

// Bumped when the layout below or the meaning of the call changes.
inline constexpr uint32_t kCompilerPluginAbi = 1;

struct CompilerPluginApi {
  uint32_t abi;
  // Sizes of the types the call shares, as each side was built with them.
  uint32_t sizes[5];
  const char *version; // HVT_VERSION
  // compile(): true when `out` holds the program.
  bool (*compile)(const SourceFile &source, const CompileOptions &options,
                  Diagnostics &diags, CompiledProgram &out);
};

inline constexpr uint32_t kCompilerPluginSizes[5] = {
    sizeof(SourceFile), sizeof(CompileOptions), sizeof(Diagnostics),
    sizeof(CompiledProgram), sizeof(Type)};

} // namespace hvt

// The one symbol the plugin exports.
extern "C" const hvt::CompilerPluginApi hvt_compiler_plugin_api;
