// How the hvt binary runs its compiler. The front end (ANTLR parser,
// semantic passes) is linked into the binary; the code generator, the only
// part that holds LLVM, is a plugin, libhvt_codegen.so, loaded only when a
// program has to be compiled (codegen_backend.h): a run served by the
// compile cache (cache.h) never maps LLVM, and a compiling run unloads it
// again once its probes are attached, so the memory LLVM used is not held
// while tracing.
#pragma once

#include "driver/pipeline.h"
#include "program.h"

#include <optional>
#include <string>

namespace hvt {

// compile() (pipeline.h), whose result stays valid once the code generator
// is unloaded (see compiler_host.cpp). A code generator that cannot be
// found or loaded, or that belongs to another hvt build, is an error in
// `diags`.
std::optional<CompiledProgram> compile_here(const SourceFile &source,
                                            const CompileOptions &options,
                                            Diagnostics &diags);

// Unloads the code generator (and LLVM with it) that compile_here() left
// loaded; a no-op when none is. Called once the probes are attached:
// unloading takes about a millisecond that tracing need not wait for.
void unload_compiler();

// "hvt VERSION BUILD-ID BUILD-ID": changes whenever the compiler's output may
// change: hvt's version, the GNU build id of the binary holding the front
// end and of the code generator plugin (read from the files, without loading
// them). "" when either cannot be read.
std::string compiler_identity_of(const std::string &front_end_binary,
                                 const std::string &code_generator);

// compiler_identity_of() this process and the code generator it would load.
std::string compiler_identity();

} // namespace hvt
