// The entry point of libhvt_codegen.so (see codegen_backend.h).
#include "driver/codegen_backend.h"

extern "C" __attribute__((visibility("default")))
const hvt::CodegenPluginApi hvt_codegen_plugin_api = {
    hvt::kCodegenPluginAbi,
    {hvt::kCodegenPluginSizes[0], hvt::kCodegenPluginSizes[1],
     hvt::kCodegenPluginSizes[2], hvt::kCodegenPluginSizes[3],
     hvt::kCodegenPluginSizes[4]},
    HVT_VERSION,
    hvt::compile_to_bpf,
};
