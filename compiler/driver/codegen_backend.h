// How the pipeline reaches the code generator, the only part of the
// compiler that holds LLVM. Tests and the fuzzer link it in
// (codegen_linked.cpp); the hvt binary loads it as a plugin,
// libhvt_codegen.so (codegen_plugin_loader.cpp), while the front end parses
// on another thread: mapping LLVM then costs no wall time.
//
// The plugin is found, in order, at $HVT_CODEGEN, next to the hvt binary
// (build tree), at ../lib/hvt/ from the binary (installation) and at the
// configured install prefix.
#pragma once

#include "codegen/codegen.h"

#include <cstdint>
#include <optional>
#include <string>

namespace hvt {

struct CodegenBackend {
  std::optional<CompiledProgram> (*compile_to_bpf)(
      const ast::Program &program, const SemanticResult &semantic,
      const SourceFile &source, const CodegenOptions &options,
      Diagnostics &diags) = nullptr;
  std::string error; // why compile_to_bpf is null
  // The code a compile runs, laid out together in the plugin ("Hot
  // functions first" and "The code generator's layout, optimized by BOLT"
  // in docs/performance.md); empty when linked in, or when the plugin's
  // layout was left as the linker made it.
  const char *hot_code_begin = nullptr;
  const char *hot_code_end = nullptr;
};

// Loads the code generator once per process (thread-safe) and returns it.
const CodegenBackend &codegen_backend();

// The plugin codegen_backend() loads, or "" (none found, or linked in).
std::string code_generator_path();

// Unloads the plugin codegen_backend() loaded; false when none was loaded.
// Everything the code generator built must be destroyed first. Waits for
// warm_code_generator() to finish.
bool unload_code_generator();

// Reads the plugin's hot code once, a byte per cache line, so that its
// pages are mapped and its lines are in the shared cache before a compile
// runs it (docs/performance.md, "The code generator's code, read ahead").
// For a thread that would otherwise be idle while another compiles; waits
// for a load in progress. False when there was nothing to read.
bool warm_code_generator();

// --- the code generator plugin's side ----------------------------------------

// Bumped when the layout below or the meaning of the calls changes.
inline constexpr uint32_t kCodegenPluginAbi = 4;

// Where the plugin's hot code is, in offsets from this record itself, which
// compiler/driver/layout_codegen.py writes into the linked plugin (the
// markers' addresses, or the hot text llvm-bolt laid out). begin == end:
// not written.
struct HotCodeRange {
  char magic[8]; // kHotCodeRangeMagic: what the script looks for
  int64_t begin;
  int64_t end;
};
inline constexpr char kHotCodeRangeMagic[8] = "hvt-hot";

struct CodegenPluginApi {
  uint32_t abi;
  // Sizes of the types the calls share, as each side was built with them.
  uint32_t sizes[5];
  const char *version; // HVT_VERSION
  decltype(CodegenBackend::compile_to_bpf) compile_to_bpf;
  const HotCodeRange *hot_code;
};

inline constexpr uint32_t kCodegenPluginSizes[5] = {
    sizeof(ast::Program), sizeof(SemanticResult), sizeof(CodegenOptions),
    sizeof(Diagnostics), sizeof(CompiledProgram)};

inline constexpr const char *kCodegenPluginName = "libhvt_codegen.so";

} // namespace hvt

// The one symbol the code generator plugin exports.
extern "C" const hvt::CodegenPluginApi hvt_codegen_plugin_api;
