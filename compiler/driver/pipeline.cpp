#include "driver/pipeline.h"

#include "driver/codegen_backend.h"
#include "frontend/parser.h"

#include <system_error>
#include <thread>

namespace hvt {

std::optional<CompiledProgram> compile(const SourceFile &source,
                                       const CompileOptions &options,
                                       Diagnostics &diags) {
  // --- performance: the code generator (LLVM) is loaded and warmed up on
  // another core while the front end parses and checks the program, which
  // takes about as long (docs/performance.md).
  std::thread loader;
  try {
    loader = std::thread([] {
      const CodegenBackend &backend = codegen_backend();
      if (backend.warm_up)
        backend.warm_up();
    });
  } catch (const std::system_error &) {
    // No thread: codegen_backend() below does it all on this one.
  }
  struct Joiner {
    std::thread &thread;
    ~Joiner() {
      if (thread.joinable())
        thread.join();
    }
  } joiner{loader};

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
  collect_initial_entries(*program, semantic);
  if (loader.joinable())
    loader.join();

  const CodegenBackend &backend = codegen_backend();
  if (!backend.compile_to_bpf) {
    diags.error({}, backend.error).hint("rebuild or reinstall hvt");
    return std::nullopt;
  }
  auto compiled = backend.compile_to_bpf(*program, semantic, source,
                                         options.codegen, diags);
  if (compiled)
    compiled->skipped = semantic.skipped;
  return compiled;
}

} // namespace hvt
