// The whole compiler pipeline, in order, in one place:
//   parse -> resolve attach points -> check types -> codegen -> BPF ELF.
// Each phase reports into Diagnostics; the pipeline stops after the first
// phase that holds an error.
#pragma once

#include "codegen/codegen.h"
#include "frontend/diagnostics.h"
#include "passes/semantic.h"
#include "program.h"

#include <optional>
#include <ostream>

namespace hvt {

struct CompileOptions {
  SemanticOptions semantic;
  CodegenOptions codegen;
  std::ostream *dump_ast = nullptr;
};

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags);

} // namespace hvt
