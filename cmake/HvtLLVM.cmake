# How hvt links LLVM (docs/performance.md, "Startup").
#
# HVT_STATIC_LLVM (default ON): the code generator links only the LLVM
# components it uses (the BPF backend and the optimizer), statically, into
# the code generator plugin. Loading it costs about 3 ms, where mapping and
# relocating the whole libLLVM.so costs 12-40 ms and holds ~50 MiB of RSS.
# OFF links libLLVM.so as before.
#
# Sets HVT_LLVM_LIBS: what to link against LLVM.
option(HVT_STATIC_LLVM "Link LLVM's BPF backend statically" ON)

if(HVT_STATIC_LLVM)
  # LLVMSupport names zstd's CMake target; Debian ships the library without
  # its CMake package unless libzstd-dev is installed.
  if(NOT TARGET zstd::libzstd_shared)
    find_library(HVT_ZSTD_LIBRARY NAMES zstd libzstd.so.1 REQUIRED)
    add_library(zstd::libzstd_shared SHARED IMPORTED)
    set_target_properties(zstd::libzstd_shared PROPERTIES
      IMPORTED_LOCATION "${HVT_ZSTD_LIBRARY}")
  endif()
  llvm_map_components_to_libnames(HVT_LLVM_LIBS bpfcodegen bpfdesc bpfinfo
    passes)
else()
  set(HVT_LLVM_LIBS LLVM)
endif()

# Static libraries end up in the code generator plugin (a shared object).
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
