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
  // Called on the front end's thread once the front end succeeded, before
  // the compile starts, with what it found (copy what is needed: it is gone
  // once compile() returns). The work
  // it returns runs once on that thread, possibly after compile() returned:
  // work(true) as soon as the program passed its checks
  // (CodegenOptions::checked) while this thread emits it, work(false) when
  // the compile ended without (hvt makes the maps and opens the tracepoints'
  // perf events there: runtime/objects_ahead.h).
  std::function<std::function<void(bool)>(const SemanticResult &)>
      while_compiling;
};

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags);

} // namespace hvt
