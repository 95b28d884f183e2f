#include "driver/compiler_plugin.h"

#include "driver/codegen_backend.h"

#include "program_io.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace hvt {

namespace {

constexpr const char *kPluginName = "libhvt_compiler.so";

bool is_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_plugin() {
  if (const char *env = getenv("HVT_COMPILER"); env && *env)
    return env;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    for (const std::string &candidate :
         {dir + "/" + kPluginName, dir + "/../lib/hvt/" + kPluginName})
      if (is_file(candidate))
        return candidate;
  }
#ifdef HVT_PLUGIN_INSTALL_PATH
  if (is_file(HVT_PLUGIN_INSTALL_PATH))
    return HVT_PLUGIN_INSTALL_PATH;
#endif
  return "";
}

bool read_at(int fd, void *buf, size_t size, off_t offset) {
  return pread(fd, buf, size, offset) == static_cast<ssize_t>(size);
}

// The GNU build id of an ELF64 file, from its PT_NOTE segments, as hex.
std::string build_id(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return "";
  std::string id;
  Elf64_Ehdr eh;
  if (read_at(fd, &eh, sizeof(eh), 0) &&
      memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 &&
      eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
    std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
    if (read_at(fd, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr),
                static_cast<off_t>(eh.e_phoff))) {
      for (const auto &ph : phdrs) {
        if (ph.p_type != PT_NOTE || ph.p_filesz > 4096 || !id.empty())
          continue;
        std::vector<uint8_t> notes(ph.p_filesz);
        if (!read_at(fd, notes.data(), notes.size(),
                     static_cast<off_t>(ph.p_offset)))
          continue;
        size_t pos = 0;
        while (pos + sizeof(Elf64_Nhdr) <= notes.size()) {
          Elf64_Nhdr nh;
          memcpy(&nh, notes.data() + pos, sizeof(nh));
          size_t name_at = pos + sizeof(nh);
          size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
          size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
          if (next > notes.size())
            break;
          if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
              memcmp(notes.data() + name_at, "GNU", 4) == 0) {
            static const char digits[] = "0123456789abcdef";
            for (size_t i = 0; i < nh.n_descsz; ++i) {
              id += digits[notes[desc_at + i] >> 4];
              id += digits[notes[desc_at + i] & 15];
            }
            break;
          }
          pos = next;
        }
      }
    }
  }
  close(fd);
  return id;
}

} // namespace

std::string compiler_plugin_path() {
  static const std::string path = find_plugin();
  return path;
}

namespace {

// The build id of `path`, else its identity as a file; "" when absent.
std::string file_identity(const std::string &path) {
  std::string id = build_id(path);
  if (!id.empty())
    return id;
  // No build id (unusual linker settings): the file's identity instead.
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    return "";
  return "file:" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

// The plugin compile_with_plugin() loaded, until unload_compiler_plugin().
void *loaded_plugin = nullptr;

} // namespace

std::string compiler_identity() {
  const std::string &path = compiler_plugin_path();
  if (path.empty())
    return "";
  std::string id = file_identity(path);
  // The code generator plugin, which the compiler plugin loads from its own
  // directory (codegen_backend.h), shapes the output as much.
  std::string codegen =
      file_identity(path.substr(0, path.rfind('/') + 1) + kCodegenPluginName);
  if (id.empty() || codegen.empty())
    return "";
  return "hvt " HVT_VERSION " " + id + " " + codegen;
}

std::optional<CompiledProgram>
compile_with_plugin(const SourceFile &source, const CompileOptions &options,
                    Diagnostics &diags) {
  const std::string &path = compiler_plugin_path();
  if (path.empty()) {
    diags
        .error({},
               std::string("cannot find hvt's compiler (") + kPluginName + ")")
        .hint("reinstall hvt, or point HVT_COMPILER at the plugin");
    return std::nullopt;
  }
  void *handle = loaded_plugin ? loaded_plugin
                               : dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    diags.error({},
                "cannot load hvt's compiler: " + std::string(why ? why : path));
    return std::nullopt;
  }
  auto *api = static_cast<const CompilerPluginApi *>(
      dlsym(handle, "hvt_compiler_plugin_api"));
  if (!api || api->abi != kCompilerPluginAbi ||
      memcmp(api->sizes, kCompilerPluginSizes, sizeof(api->sizes)) != 0 ||
      strcmp(api->version, HVT_VERSION) != 0) {
    if (handle != loaded_plugin)
      dlclose(handle);
    diags
        .error({},
               "hvt's compiler at " + path + " belongs to another build of hvt")
        .hint("rebuild or reinstall hvt");
    return std::nullopt;
  }
  CompiledProgram out;
  bool ok = api->compile(source, options, diags, out);
  std::optional<CompiledProgram> result;
  if (ok) {
    // Everything the plugin built is copied into objects this binary built,
    // so nothing refers to the plugin's code once it is unloaded (the
    // symbol tables' shared_ptr, for one, would).
    CompiledProgram own;
    std::string error;
    if (!program_metadata_from_json(program_metadata_to_json(out), own,
                                    error)) {
      diags.error({}, "internal error: cannot take over the compiled "
                      "program: " +
                          error);
    } else {
      own.elf = std::move(out.elf);
      result = std::move(own);
    }
  }
  out = CompiledProgram{};
  // Unloaded by unload_compiler_plugin(), once the probes are attached.
  loaded_plugin = handle;
  return result;
}

void unload_compiler_plugin() {
  if (!loaded_plugin)
    return;
  dlclose(loaded_plugin);
  loaded_plugin = nullptr;
  // LLVM's heap goes back to the system too, not only its code.
  malloc_trim(0);
}

} // namespace hvt
