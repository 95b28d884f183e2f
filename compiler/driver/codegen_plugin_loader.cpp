// The hvt binary's way to the code generator: libhvt_codegen.so, found as
// codegen_backend.h says.
#include "driver/codegen_backend.h"
#include "frontend/install_paths.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace hvt {

namespace {

bool is_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_plugin() {
  if (const char *env = getenv("HVT_CODEGEN"); env && *env)
    return env;
  if (std::string dir = executable_directory(); !dir.empty()) {
    for (const std::string &candidate :
         {dir + "/" + kCodegenPluginName,
          dir + "/../lib/hvt/" + kCodegenPluginName})
      if (is_file(candidate))
        return candidate;
  }
#ifdef HVT_PLUGIN_INSTALL_PATH
  if (is_file(HVT_PLUGIN_INSTALL_PATH))
    return HVT_PLUGIN_INSTALL_PATH;
#endif
  return "";
}

void *loaded = nullptr;
std::mutex loading;
// Held while warm_code_generator() reads the plugin's code: unloading
// waits for it. Always taken before `loading`.
std::mutex warming;

// A cache line on the CPUs hvt runs on.
constexpr std::size_t kCacheLineBytes = 64;

// Whether [begin, end) lies within one readable segment of the object
// `inside` belongs to: a hot range written wrong must not make warming
// read unmapped memory.
bool in_one_segment(const void *inside, const char *begin, const char *end) {
  Dl_info info{};
  if (!dladdr(inside, &info))
    return false;
  struct Query {
    const void *base;
    std::uintptr_t begin, end;
    bool found = false;
  } query{info.dli_fbase, reinterpret_cast<std::uintptr_t>(begin),
          reinterpret_cast<std::uintptr_t>(end)};
  dl_iterate_phdr(
      [](dl_phdr_info *object, size_t, void *data) {
        auto *q = static_cast<Query *>(data);
        if (reinterpret_cast<const void *>(object->dlpi_addr) != q->base)
          return 0;
        for (int i = 0; i < object->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = object->dlpi_phdr[i];
          std::uintptr_t start = object->dlpi_addr + segment.p_vaddr;
          if (segment.p_type == PT_LOAD && (segment.p_flags & PF_R) &&
              start <= q->begin && q->end <= start + segment.p_memsz)
            q->found = true;
        }
        return 1;
      },
      &query);
  return query.found;
}

CodegenBackend load() {
  CodegenBackend backend;
  const std::string &path = code_generator_path();
  if (path.empty()) {
    backend.error = std::string("cannot find hvt's code generator (") +
                    kCodegenPluginName + ")";
    return backend;
  }
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
  loaded = handle;
  backend.compile_to_bpf = api->compile_to_bpf;
  if (const HotCodeRange *range = api->hot_code;
      range && range->begin < range->end) {
    const char *from = reinterpret_cast<const char *>(range);
    if (in_one_segment(api, from + range->begin, from + range->end)) {
      backend.hot_code_begin = from + range->begin;
      backend.hot_code_end = from + range->end;
    }
  }
  return backend;
}

// The backend of the plugin loaded now; reset by unload_code_generator().
CodegenBackend current;
bool tried = false;

} // namespace

std::string code_generator_path() {
  static const std::string path = find_plugin();
  return path;
}

const CodegenBackend &codegen_backend() {
  std::lock_guard<std::mutex> lock(loading);
  if (!tried) {
    current = load();
    tried = true;
  }
  return current;
}

bool unload_code_generator() {
  std::lock_guard<std::mutex> warm_lock(warming);
  std::lock_guard<std::mutex> lock(loading);
  if (!loaded)
    return false;
  dlclose(loaded);
  loaded = nullptr;
  current = CodegenBackend{};
  current.error = "hvt's code generator was unloaded";
  return true;
}

bool warm_code_generator() {
  std::lock_guard<std::mutex> warm_lock(warming);
  const CodegenBackend &backend = codegen_backend();
  const char *begin = backend.hot_code_begin;
  const char *end = backend.hot_code_end;
  if (!begin)
    return false;
  // Read, not prefetched: a prefetch of a page not yet mapped is dropped.
  // The pages fault in here, many per fault (the kernel maps the cached
  // pages around each one), and the lines pass through this CPU's cache
  // into the one both CPUs share.
  unsigned char sum = 0;
  for (const char *line = begin; line < end; line += kCacheLineBytes)
    sum += *reinterpret_cast<const volatile unsigned char *>(line);
  asm volatile("" : : "r"(sum)); // the reads are the point
  return true;
}

} // namespace hvt
