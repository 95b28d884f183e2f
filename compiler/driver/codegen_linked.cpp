// The code generator linked into the same binary (tests, fuzzer).
#include "driver/codegen_backend.h"

namespace hvt {

const CodegenBackend &codegen_backend() {
  static const CodegenBackend backend{compile_to_bpf, ""};
  return backend;
}

std::string code_generator_path() { return ""; }

bool unload_code_generator() { return false; }

bool warm_code_generator() { return false; }

} // namespace hvt
