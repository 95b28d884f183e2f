// The whole compiler pipeline, in order, in one place:
//   parse -> resolve attach points -> check types -> codegen -> BPF ELF.
// Each phase reports into Diagnostics; the pipeline stops after the first
// phase that holds an error.
#pragma once

#include "codegen/codegen.h"
#include "frontend/diagnostics.h"
#include "passes/semantic.h"
#include "program.h"

#include <functional>
#include <optional>
#include <ostream>
#include <vector>

namespace hvt {

struct CompileOptions {
  SemanticOptions semantic;
  CodegenOptions codegen;
  std::ostream *dump_ast = nullptr;
  // Called on the front end's thread once the front end is done, with every
  // attach point it resolved, while this thread compiles (hvt opens the
  // tracepoints' perf events there: runtime/attach_ahead.h). It may run
  // after compile() returned.
  std::function<void(const std::vector<ProbeDesc> &)> while_compiling;
};

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags);

} // namespace hvt
