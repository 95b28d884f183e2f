// The compiler plugin's way to the code generator: libhvt_codegen.so, found
// next to the compiler plugin itself.
#include "driver/codegen_backend.h"

#include <dlfcn.h>

#include <cstring>
#include <mutex>

namespace hvt {

namespace {

// Where this plugin was loaded from.
std::string own_directory() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&codegen_backend), &info) == 0 ||
      !info.dli_fname)
    return "";
  std::string path = info.dli_fname;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Unloaded with the compiler plugin: the host has destroyed everything the
// code generator built by then (compiler_plugin.cpp).
struct Handle {
  void *handle = nullptr;
  ~Handle() {
    if (handle)
      dlclose(handle);
  }
};

Handle loaded;

CodegenBackend load() {
  CodegenBackend backend;
  std::string path = own_directory() + "/" + kCodegenPluginName;
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    backend.error =
        "cannot load hvt's code generator: " + std::string(why ? why : path);
    return backend;
  }
  auto *api = static_cast<const CodegenPluginApi *>(
      dlsym(handle, "hvt_codegen_plugin_api"));
  if (!api || api->abi != kCodegenPluginAbi ||
      memcmp(api->sizes, kCodegenPluginSizes, sizeof(api->sizes)) != 0 ||
      strcmp(api->version, HVT_VERSION) != 0) {
    dlclose(handle);
    backend.error =
        "hvt's code generator at " + path + " belongs to another build of hvt";
    return backend;
  }
  loaded.handle = handle;
  backend.compile_to_bpf = api->compile_to_bpf;
  return backend;
}

} // namespace

const CodegenBackend &codegen_backend() {
  static std::once_flag once;
  static CodegenBackend backend;
  std::call_once(once, [] { backend = load(); });
  return backend;
}

} // namespace hvt
