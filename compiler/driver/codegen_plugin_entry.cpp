// The entry point of libhvt_codegen.so (see codegen_backend.h).
#include "driver/codegen_backend.h"

#ifdef HVT_CODEGEN_SECTION_ORDER
// Linked with its section order (compiler/driver/CMakeLists.txt), which
// places the three sections below.

// Two empty functions, right before and right after the functions a
// compile runs: their addresses bound the hot code warm_code_generator()
// reads, unless llvm-bolt moved that code (layout_codegen.py).
extern "C"
    __attribute__((section(".text.hvt_hot_code_begin"), used, noinline)) void
    hvt_hot_code_begin() {}
extern "C"
    __attribute__((section(".text.hvt_hot_code_end"), used, noinline)) void
    hvt_hot_code_end() {}

// Zeros at the end of .data.rel.ro, between LLVM's relocated vtables and
// .dynamic (docs/performance.md, "Relocations kept apart from .dynamic").
// ld.so reads .dynamic before it relocates, and the kernel maps the cached
// file pages around that read, read-only: each relocation then written to
// one of them was a copy-on-write fault of a mapped page, whose TLB flush
// interrupts the CPU the front end runs on (~70 of them). 512 KiB is
// twice the widest reach of those reads seen here. Never touched, so it
// costs no memory.
extern "C"
    __attribute__((section(".data.rel.ro.hvt_relro_gap"), used, aligned(4096)))
    const char hvt_relro_gap[512 * 1024] = {};
#endif

// Written after linking, in the file (layout_codegen.py); read-only data
// with no relocation, so what the script writes is what the loader reads.
extern "C" __attribute__((used)) const hvt::HotCodeRange hvt_hot_code_range = {
    {hvt::kHotCodeRangeMagic[0], hvt::kHotCodeRangeMagic[1],
     hvt::kHotCodeRangeMagic[2], hvt::kHotCodeRangeMagic[3],
     hvt::kHotCodeRangeMagic[4], hvt::kHotCodeRangeMagic[5],
     hvt::kHotCodeRangeMagic[6], hvt::kHotCodeRangeMagic[7]},
    0,
    0};

extern "C" __attribute__((visibility("default")))
const hvt::CodegenPluginApi hvt_codegen_plugin_api = {
    hvt::kCodegenPluginAbi,
    {hvt::kCodegenPluginSizes[0], hvt::kCodegenPluginSizes[1],
     hvt::kCodegenPluginSizes[2], hvt::kCodegenPluginSizes[3],
     hvt::kCodegenPluginSizes[4]},
    HVT_VERSION,
    hvt::compile_to_bpf,
    &hvt_hot_code_range,
};
