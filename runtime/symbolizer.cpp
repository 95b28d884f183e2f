#include "symbolizer.h"

#include <cxxabi.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

namespace hvt::symbolizer {

namespace {

struct Symbol {
  uint64_t address = 0;
  uint64_t size = 0; // 0: unknown (kallsyms, some assembly functions)
  std::string name;
};

bool by_address(const Symbol &a, const Symbol &b) {
  return a.address < b.address;
}

// ------------------------------------------------------------------ kernel

struct KernelTable {
  std::vector<Symbol> by_address;
  std::map<std::string, uint64_t, std::less<>> by_name; // first occurrence
};

std::unique_ptr<KernelTable> kernel_table;

const KernelTable &kernel() {
  if (kernel_table)
    return *kernel_table;
  kernel_table = std::make_unique<KernelTable>();
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    char *end = nullptr;
    uint64_t address = std::strtoull(line.c_str(), &end, 16);
    if (end == line.c_str() || address == 0 || line.size() < 20)
      continue;
    std::istringstream fields(line.substr(end - line.c_str()));
    std::string type, name;
    fields >> type >> name;
    // Absolute symbols (per-CPU offsets and the like) are not code.
    if (name.empty() || type == "a" || type == "A")
      continue;
    kernel_table->by_name.emplace(name, address);
    kernel_table->by_address.push_back({address, 0, std::move(name)});
  }
  std::stable_sort(kernel_table->by_address.begin(),
                   kernel_table->by_address.end(), by_address);
  return *kernel_table;
}

// ------------------------------------------------------------------- user

// The functions of one ELF file and how its file offsets map to the
// addresses its symbols use.
struct ElfTable {
  struct Segment {
    uint64_t offset = 0, vaddr = 0, size = 0;
  };
  std::vector<Segment> segments;
  std::vector<Symbol> functions; // sorted by address

  std::optional<uint64_t> vaddr_of(uint64_t file_offset) const {
    for (const auto &s : segments)
      if (file_offset >= s.offset && file_offset < s.offset + s.size)
        return file_offset - s.offset + s.vaddr;
    return std::nullopt;
  }
};

std::string demangle(const std::string &name) {
  if (name.rfind("_Z", 0) != 0)
    return name;
  int status = 0;
  char *text = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !text)
    return name;
  std::string out = text;
  std::free(text);
  return out;
}

void read_symbols(Elf *elf, Elf_Scn *section, const GElf_Shdr &header,
                  std::vector<Symbol> &out) {
  Elf_Data *data = elf_getdata(section, nullptr);
  if (!data || header.sh_entsize == 0)
    return;
  size_t count = header.sh_size / header.sh_entsize;
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym))
      continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
        sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
      continue;
    const char *name = elf_strptr(elf, header.sh_link, sym.st_name);
    if (name && *name)
      out.push_back({sym.st_value, sym.st_size, name});
  }
}

// What one ELF file offers for symbolization.
struct ElfContents {
  std::vector<ElfTable::Segment> segments;
  std::vector<Symbol> symtab, dynsym;
  std::string build_id;  // hex
  std::string debuglink; // .gnu_debuglink file name
};

std::string section_name(Elf *elf, const GElf_Shdr &header) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0)
    return "";
  const char *name = elf_strptr(elf, names, header.sh_name);
  return name ? name : "";
}

// The GNU build id from a .note.gnu.build-id section, as hex.
std::string build_id(Elf_Scn *section) {
  Elf_Data *data = elf_getdata(section, nullptr);
  if (!data)
    return "";
  size_t offset = 0, name_at = 0, desc_at = 0;
  GElf_Nhdr note;
  while ((offset = gelf_getnote(data, offset, &note, &name_at, &desc_at))) {
    if (note.n_type != NT_GNU_BUILD_ID)
      continue;
    auto *bytes = static_cast<const uint8_t *>(data->d_buf) + desc_at;
    std::string hex;
    for (size_t i = 0; i < note.n_descsz; ++i) {
      char two[3];
      snprintf(two, sizeof(two), "%02x", bytes[i]);
      hex += two;
    }
    return hex;
  }
  return "";
}

std::optional<ElfContents> read_elf(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  elf_version(EV_CURRENT);
  Elf *elf = elf_begin(fd, ELF_C_READ, nullptr);
  if (!elf) {
    close(fd);
    return std::nullopt;
  }
  ElfContents contents;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) == 0) {
    for (size_t i = 0; i < count; ++i) {
      GElf_Phdr phdr;
      if (gelf_getphdr(elf, static_cast<int>(i), &phdr) &&
          phdr.p_type == PT_LOAD)
        contents.segments.push_back(
            {phdr.p_offset, phdr.p_vaddr, phdr.p_filesz});
    }
  }
  Elf_Scn *section = nullptr;
  while ((section = elf_nextscn(elf, section))) {
    GElf_Shdr header;
    if (!gelf_getshdr(section, &header))
      continue;
    if (header.sh_type == SHT_SYMTAB) {
      read_symbols(elf, section, header, contents.symtab);
    } else if (header.sh_type == SHT_DYNSYM) {
      read_symbols(elf, section, header, contents.dynsym);
    } else if (header.sh_type == SHT_NOTE &&
               section_name(elf, header) == ".note.gnu.build-id") {
      contents.build_id = build_id(section);
    } else if (section_name(elf, header) == ".gnu_debuglink") {
      Elf_Data *data = elf_getdata(section, nullptr);
      if (data && data->d_size)
        contents.debuglink = std::string(
            static_cast<const char *>(data->d_buf),
            strnlen(static_cast<const char *>(data->d_buf), data->d_size));
    }
  }
  elf_end(elf);
  close(fd);
  return contents;
}

// The functions of a stripped file's separate debug file (Debian's -dbg
// packages), found by build id or debug link as gdb finds it.
std::vector<Symbol> debug_file_functions(const std::string &path,
                                         const ElfContents &contents) {
  std::vector<std::string> candidates;
  if (contents.build_id.size() > 2)
    candidates.push_back("/usr/lib/debug/.build-id/" +
                         contents.build_id.substr(0, 2) + "/" +
                         contents.build_id.substr(2) + ".debug");
  if (!contents.debuglink.empty()) {
    std::string dir = path.substr(0, path.rfind('/'));
    candidates.push_back(dir + "/" + contents.debuglink);
    candidates.push_back(dir + "/.debug/" + contents.debuglink);
    candidates.push_back("/usr/lib/debug" + dir + "/" + contents.debuglink);
  }
  for (const auto &candidate : candidates) {
    if (candidate == path)
      continue;
    auto debug = read_elf(candidate);
    if (debug && !debug->symtab.empty())
      return std::move(debug->symtab);
  }
  return {};
}

std::unique_ptr<ElfTable> load_elf(const std::string &path) {
  auto contents = read_elf(path);
  if (!contents)
    return nullptr;
  auto table = std::make_unique<ElfTable>();
  table->segments = std::move(contents->segments);
  // .symtab has every function; a stripped file keeps only .dynsym, and its
  // debug file (when installed) has the rest.
  if (contents->symtab.empty())
    contents->symtab = debug_file_functions(path, *contents);
  table->functions = contents->symtab.empty() ? std::move(contents->dynsym)
                                              : std::move(contents->symtab);
  std::stable_sort(table->functions.begin(), table->functions.end(),
                   by_address);
  return table;
}

struct Mapping {
  uint64_t start = 0, end = 0, offset = 0;
  std::string path;
};

std::map<uint32_t, std::vector<Mapping>> process_maps;
std::map<std::string, std::unique_ptr<ElfTable>> elf_tables;

const std::vector<Mapping> &mappings(uint32_t pid) {
  auto it = process_maps.find(pid);
  if (it != process_maps.end())
    return it->second;
  std::vector<Mapping> list;
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(in, line)) {
    // "55c3a0e00000-55c3a0e01000 r-xp 00001000 08:01 1234   /usr/bin/x"
    Mapping m;
    char perms[8] = {};
    unsigned long long start, end, offset;
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &start, &end,
               perms, &offset, &path_at) < 4)
      continue;
    if (perms[2] != 'x' || path_at <= 0 ||
        static_cast<size_t>(path_at) >= line.size() || line[path_at] != '/')
      continue;
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.path = line.substr(path_at);
    list.push_back(std::move(m));
  }
  return process_maps.emplace(pid, std::move(list)).first->second;
}

const ElfTable *elf_table(const std::string &path) {
  auto it = elf_tables.find(path);
  if (it == elf_tables.end())
    it = elf_tables.emplace(path, load_elf(path)).first;
  return it->second.get();
}

// The symbol containing `address`: the closest one at or below it, which
// must span the address when its size is known.
const Symbol *containing(const std::vector<Symbol> &symbols, uint64_t address,
                         bool require_span) {
  auto it = std::upper_bound(
      symbols.begin(), symbols.end(), address,
      [](uint64_t a, const Symbol &s) { return a < s.address; });
  if (it == symbols.begin())
    return nullptr;
  --it;
  if (!require_span || it->size == 0 || address < it->address + it->size)
    return &*it;
  // An alias or a zero-sized label may sit right before the real function.
  for (int back = 0; back < 8 && it != symbols.begin(); ++back) {
    --it;
    if (address < it->address + it->size)
      return &*it;
  }
  return nullptr;
}

} // namespace

std::optional<uint64_t> kernel_address(std::string_view name) {
  const auto &table = kernel();
  auto it = table.by_name.find(name);
  if (it == table.by_name.end())
    return std::nullopt;
  return it->second;
}

std::optional<ResolvedSymbol> resolve_kernel(uint64_t address) {
  const Symbol *symbol = containing(kernel().by_address, address, false);
  if (!symbol)
    return std::nullopt;
  return ResolvedSymbol{symbol->name, address - symbol->address, ""};
}

std::optional<ResolvedSymbol> resolve_user(uint32_t pid, uint64_t address) {
  for (const auto &m : mappings(pid)) {
    if (address < m.start || address >= m.end)
      continue;
    const ElfTable *table = elf_table(m.path);
    if (!table)
      return std::nullopt;
    auto vaddr = table->vaddr_of(address - m.start + m.offset);
    if (!vaddr)
      return std::nullopt;
    const Symbol *symbol = containing(table->functions, *vaddr, true);
    if (!symbol)
      return std::nullopt;
    return ResolvedSymbol{demangle(symbol->name), *vaddr - symbol->address,
                          m.path};
  }
  return std::nullopt;
}

std::string unknown_address(uint64_t address) {
  if (address == 0)
    return "0";
  char text[32];
  snprintf(text, sizeof(text), "0x%llx",
           static_cast<unsigned long long>(address));
  return text;
}

void clear_caches() {
  kernel_table.reset();
  process_maps.clear();
  elf_tables.clear();
}

} // namespace hvt::symbolizer
