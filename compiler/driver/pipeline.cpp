#include "driver/pipeline.h"

#include "frontend/parser.h"

namespace hvt {

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags) {
  auto program = parse_program(source, diags);
  if (!program || diags.has_errors())
    return std::nullopt;
  if (options.dump_ast)
    *options.dump_ast << ast::dump_ast(*program);

  SemanticResult semantic;
  semantic.options = options.semantic;
  resolve_attach_points(*program, diags, semantic);
  if (diags.has_errors())
    return std::nullopt;
  check_types(*program, diags, semantic);
  if (diags.has_errors())
    return std::nullopt;
  check_resource_limits(*program, diags);
  if (diags.has_errors())
    return std::nullopt;
  add_fallback_points(semantic);

  auto compiled =
      compile_to_bpf(*program, semantic, source, options.codegen, diags);
  if (compiled)
    compiled->skipped = semantic.skipped;
  return compiled;
}

} // namespace hvt
