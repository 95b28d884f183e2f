// The entry point of libhvt_compiler.so (see compiler_plugin.h): the whole
// compiler behind one exported table.
#include "driver/compiler_plugin.h"

namespace {

bool compile_entry(const hvt::SourceFile &source,
                   const hvt::CompileOptions &options, hvt::Diagnostics &diags,
                   hvt::CompiledProgram &out) {
  auto compiled = hvt::compile(source, options, diags);
  if (!compiled)
    return false;
  out = std::move(*compiled);
  return true;
}

} // namespace

extern "C" __attribute__((visibility("default")))
const hvt::CompilerPluginApi hvt_compiler_plugin_api = {
    hvt::kCompilerPluginAbi,
    {hvt::kCompilerPluginSizes[0], hvt::kCompilerPluginSizes[1],
     hvt::kCompilerPluginSizes[2], hvt::kCompilerPluginSizes[3],
     hvt::kCompilerPluginSizes[4]},
    HVT_VERSION,
    compile_entry,
};
