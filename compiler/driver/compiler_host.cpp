#include "driver/compiler_host.h"

#include "driver/codegen_backend.h"

#include <elf.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace hvt {

namespace {

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

} // namespace

std::string compiler_identity_of(const std::string &front_end_binary,
                                 const std::string &code_generator) {
  if (front_end_binary.empty() || code_generator.empty())
    return "";
  std::string front_end = file_identity(front_end_binary);
  std::string codegen = file_identity(code_generator);
  if (front_end.empty() || codegen.empty())
    return "";
  return "hvt " HVT_VERSION " " + front_end + " " + codegen;
}

std::string compiler_identity() {
  return compiler_identity_of("/proc/self/exe", code_generator_path());
}

std::optional<CompiledProgram> compile_here(const SourceFile &source,
                                            const CompileOptions &options,
                                            Diagnostics &diags) {
  // The program outlives the code generator, which is unloaded once the
  // probes are attached. That is safe because everything in it is plain
  // data (strings, vectors: memory from the one malloc) or was made by
  // this binary: the symbol tables, the only shared_ptr, come from the type
  // checker. The code generator must not put objects with code of its own
  // (a shared_ptr it creates, a std::function, a virtual class) in it.
  // (Copying the program through program_io's JSON, as the compiler
  // plugin once had to, cost 0.2-0.3 ms of every compiling start.)
  return compile(source, options, diags);
}

void unload_compiler() {
  if (!unload_code_generator())
    return;
  // LLVM's heap goes back to the system too, not only its code.
  malloc_trim(0);
}

} // namespace hvt
