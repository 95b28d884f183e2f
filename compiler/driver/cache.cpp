#include "driver/cache.h"

#include "driver/compiler_host.h"
#include "frontend/include_files.h"
#include "program_io.h"
#include "timeline.h"
#include "tracefs.h"

#include <nettle/sha2.h>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char **environ;

namespace hvt {

// ---------------------------------------------------------------------------
// SHA-256: nettle's, which uses the CPU's SHA extensions where there are any
// (a cached start hashes ~27 KB: the key's inputs, the entry, the tracepoint
// formats it depends on; 6x faster than portable C).

namespace {

class Sha256 {
public:
  Sha256() { sha256_init(&context_); }

  void update(const void *data, size_t size) {
    sha256_update(&context_, size, static_cast<const uint8_t *>(data));
  }
  void update(std::string_view s) { update(s.data(), s.size()); }

  // The digest; the hash starts over.
  std::array<uint8_t, SHA256_DIGEST_SIZE> finish() {
    std::array<uint8_t, SHA256_DIGEST_SIZE> out;
    sha256_digest(&context_, out.size(), out.data());
    return out;
  }

  std::string hex() {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (uint8_t b : finish()) {
      s += digits[b >> 4];
      s += digits[b & 15];
    }
    return s;
  }

private:
  sha256_ctx context_;
};

// Length-prefixed fields, so no two different inputs hash alike.
void add_field(Sha256 &hash, std::string_view value) {
  uint64_t size = value.size();
  hash.update(&size, sizeof(size));
  hash.update(value);
}

// sysfs and procfs files report a size of 4096 or 0: read them fully.
std::string read_or_empty(const std::string &path) {
  std::string text;
  read_text_file(path, text);
  return text;
}

constexpr char kMagic[8] = {'H', 'V', 'T', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t kEntryVersion = 2; // 2: no elf_sha256 in the header
constexpr size_t kPrefixSize = 8 + 4 + 4 + 8 + 8;
constexpr size_t kDigestSize = 32;
constexpr const char *kEntrySuffix = ".hvtc";

template <typename T> void put(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(value));
}

template <typename T> T get(std::string_view in, size_t offset) {
  T value;
  memcpy(&value, in.data() + offset, sizeof(value));
  return value;
}

} // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hex();
}

// ---------------------------------------------------------------------------
// Key inputs

std::string default_cache_directory() {
  auto env = [](const char *name) -> std::string {
    const char *value = getenv(name);
    return value && *value ? value : "";
  };
  if (std::string dir = env("HVT_CACHE_DIR"); !dir.empty())
    return dir;
  if (std::string dir = env("XDG_CACHE_HOME"); !dir.empty())
    return dir + "/hvt";
  if (std::string home = env("HOME"); !home.empty())
    return home + "/.cache/hvt";
  return "";
}

std::string kernel_identity() {
  if (const char *id = getenv("HVT_CACHE_KERNEL_ID"); id && *id)
    return id;
  Sha256 hash;
  add_field(hash, read_or_empty("/proc/sys/kernel/osrelease"));
  // This boot: kernel addresses (kaddr(), KASLR) are resolved at compile
  // time and change with every boot.
  add_field(hash, read_or_empty("/proc/sys/kernel/random/boot_id"));
  add_field(hash, read_or_empty("/proc/sys/kernel/version"));
  // The GNU build id of the running vmlinux (and other notes).
  add_field(hash, read_or_empty("/sys/kernel/notes"));
  struct stat st;
  std::string btf_size = stat("/sys/kernel/btf/vmlinux", &st) == 0
                             ? std::to_string(st.st_size)
                             : "none";
  add_field(hash, btf_size);
  // Modules bring tracepoints and functions: their names, in order.
  std::vector<std::string> modules;
  std::istringstream list(read_or_empty("/proc/modules"));
  for (std::string line; std::getline(list, line);)
    modules.push_back(line.substr(0, line.find(' ')));
  std::sort(modules.begin(), modules.end());
  for (const auto &m : modules)
    add_field(hash, m);
  return hash.hex();
}

namespace {

std::string dependency_digest(const std::string &path, bool by_content) {
  if (by_content) {
    std::string text;
    if (!read_text_file(path, text))
      return "absent";
    return "sha256:" + sha256_hex(text);
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    return "absent";
  return "stat:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) +
         ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

} // namespace

bool dependency_current(const CacheDependency &dep) {
  if (dep.digest == "absent")
    return access(dep.path.c_str(), F_OK) != 0;
  bool by_content = dep.digest.rfind("sha256:", 0) == 0;
  return dependency_digest(dep.path, by_content) == dep.digest;
}

std::vector<CacheDependency>
program_dependencies(const CompiledProgram &program) {
  std::vector<std::pair<std::string, bool>> paths; // path, by content
  auto tracepoint = [&](const std::string &category_and_name) {
    size_t colon = category_and_name.find(':');
    if (colon == std::string::npos || tracefs::root().empty())
      return;
    paths.emplace_back(tracefs::root() + "/events/" +
                           category_and_name.substr(0, colon) + "/" +
                           category_and_name.substr(colon + 1) + "/format",
                       true);
  };
  for (const auto &probe : program.probes) {
    if (probe.kind == ProbeKind::Tracepoint)
      tracepoint(probe.target);
    else if (probe.kind == ProbeKind::Uprobe ||
             probe.kind == ProbeKind::Uretprobe)
      paths.emplace_back(probe.target, false);
  }
  // A tracepoint the compiler left out because it was missing must still be
  // missing for the stored program to be right.
  for (const auto &skipped : program.skipped)
    if (skipped.display.rfind("tracepoint:", 0) == 0)
      tracepoint(skipped.display.substr(strlen("tracepoint:")));
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<CacheDependency> deps;
  for (const auto &[path, by_content] : paths)
    deps.push_back({path, dependency_digest(path, by_content)});
  return deps;
}

std::vector<CacheDependency> header_dependencies(const SourceFile &source) {
  std::vector<CacheDependency> deps;
  std::string dir =
      source.name() == "stdin" ? "." : directory_of(source.name());
  IncludeClosure closure = include_closure(source.text(), dir);
  for (const auto &path : closure.files)
    deps.push_back({path, dependency_digest(path, false)});
  for (const auto &path : closure.missing)
    deps.push_back({path, "absent"});
  return deps;
}

std::string CompileCache::key(const SourceFile &source,
                              const CompileOptions &options) const {
  if (kernel_id_.empty())
    kernel_id_ = kernel_identity();
    // Every field of the options that reaches the compiled output. A new
    // option must be added here (the size check below is a reminder).
#if defined(__x86_64__) && defined(__GLIBCXX__)
  static_assert(sizeof(SemanticOptions) == 64,
                "add the new SemanticOptions field to the cache key");
  // (CodegenOptions::checked only reports progress.)
  static_assert(sizeof(CodegenOptions) == 72,
                "add the new CodegenOptions field to the cache key");
#endif
  const SemanticOptions &s = options.semantic;
  Sha256 hash;
  add_field(hash, "hvt compile cache key v1");
  add_field(hash, std::to_string(kEntryVersion) + "/" +
                      std::to_string(kProgramFormatVersion));
  add_field(hash, compiler_id_);
  add_field(hash, kernel_id_);
  add_field(hash, source.name());
  add_field(hash, source.text());
  add_field(hash, std::to_string(s.positional.size()));
  for (const auto &arg : s.positional)
    add_field(hash, arg);
  add_field(hash, std::to_string(s.string_size));
  add_field(hash, std::to_string(s.map_size));
  add_field(hash, std::to_string(s.target_pid));
  add_field(hash, std::to_string(s.child_pid));
  add_field(hash, std::to_string(static_cast<int>(s.stack_mode)));
  add_field(hash, std::to_string(s.max_probes));
  add_field(hash, std::to_string(s.read_environment));
  // Whether codegen may ask; the answer comes from the kernel, in its id.
  add_field(hash, s.kernel_has_attach_cookies ? "cookies" : "no cookies");
  add_field(hash, std::to_string(static_cast<int>(options.codegen.optimizer)));
  // Optimizer::Default's pipeline is LLVM's, or absent (an error).
  add_field(hash, options.codegen.default_pipeline ? "o2" : "no o2");
  // The environment the compiler reads: bpftrace's settings, where the
  // shipped tracepoint formats are, and the forced kvm vendor
  // (passes/host_fields.h).
  std::vector<std::string> env;
  for (char **e = environ; e && *e; ++e) {
    std::string_view var(*e);
    if ((s.read_environment && var.rfind("BPFTRACE_", 0) == 0) ||
        var.rfind("HVT_FORMATS_DIR=", 0) == 0 ||
        var.rfind("HVT_KVM_ISA=", 0) == 0)
      env.emplace_back(var);
  }
  std::sort(env.begin(), env.end());
  add_field(hash, std::to_string(env.size()));
  for (const auto &var : env)
    add_field(hash, var);
  return hash.hex();
}

// ---------------------------------------------------------------------------
// Entries

std::string encode_cache_entry(const std::string &key,
                               const std::string &compiler_id,
                               const CompiledProgram &program,
                               const std::vector<CacheDependency> &deps) {
  std::string_view elf(reinterpret_cast<const char *>(program.elf.data()),
                       program.elf.size());
  // The object needs no hash of its own: the seal below covers it.
  nlohmann::json header = {{"key", key}, {"compiler", compiler_id}};
  nlohmann::json dep_list = nlohmann::json::array();
  for (const auto &d : deps)
    dep_list.push_back(nlohmann::json::array({d.path, d.digest}));
  header["deps"] = std::move(dep_list);
  std::string header_text = header.dump();
  std::string metadata = program_metadata_to_json(program);

  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kEntryVersion);
  put<uint32_t>(out, static_cast<uint32_t>(header_text.size()));
  put<uint64_t>(out, metadata.size());
  put<uint64_t>(out, elf.size());
  out += header_text;
  out += metadata;
  out += elf;
  Sha256 hash;
  hash.update(out);
  auto digest = hash.finish();
  out.append(reinterpret_cast<const char *>(digest.data()), digest.size());
  return out;
}

bool decode_cache_entry(std::string_view bytes, const std::string &key,
                        const std::string &compiler_id,
                        CompiledProgram &program,
                        std::vector<CacheDependency> &deps,
                        std::string &error) {
  if (bytes.size() < kPrefixSize + kDigestSize ||
      memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    error = "not a cache entry";
    return false;
  }
  if (get<uint32_t>(bytes, 8) != kEntryVersion) {
    error = "entry of another cache version";
    return false;
  }
  uint64_t header_size = get<uint32_t>(bytes, 12);
  uint64_t metadata_size = get<uint64_t>(bytes, 16);
  uint64_t elf_size = get<uint64_t>(bytes, 24);
  uint64_t body = bytes.size() - kPrefixSize - kDigestSize;
  if (header_size > body || metadata_size > body || elf_size > body ||
      header_size + metadata_size + elf_size != body) {
    error = "truncated or padded entry";
    return false;
  }
  Sha256 hash;
  hash.update(bytes.substr(0, bytes.size() - kDigestSize));
  auto digest = hash.finish();
  if (memcmp(digest.data(), bytes.data() + bytes.size() - kDigestSize,
             kDigestSize) != 0) {
    error = "checksum mismatch (corrupt entry)";
    return false;
  }
  std::string_view header_text = bytes.substr(kPrefixSize, header_size);
  std::string_view metadata =
      bytes.substr(kPrefixSize + header_size, metadata_size);
  std::string_view elf =
      bytes.substr(kPrefixSize + header_size + metadata_size, elf_size);
  auto header = nlohmann::json::parse(header_text, nullptr, false);
  try {
    if (header.is_discarded() || !header.is_object())
      throw std::runtime_error("unreadable entry header");
    if (header.at("key").get<std::string>() != key)
      throw std::runtime_error("entry of another key");
    if (header.at("compiler").get<std::string>() != compiler_id)
      throw std::runtime_error("entry of another compiler build");
    deps.clear();
    for (const auto &d : header.at("deps")) {
      if (d.size() != 2)
        throw std::runtime_error("bad dependency record");
      deps.push_back({d.at(0).get<std::string>(), d.at(1).get<std::string>()});
    }
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
  if (!program_metadata_from_json(metadata, program, error))
    return false;
  program.elf.assign(elf.begin(), elf.end());
  return true;
}

// ---------------------------------------------------------------------------
// The directory

CompileCache::CompileCache(std::string directory, std::string compiler_id)
    : directory_(std::move(directory)), compiler_id_(std::move(compiler_id)) {}

std::string CompileCache::entry_path(const std::string &key) const {
  return directory_ + "/" + key + kEntrySuffix;
}

namespace {

// mkdir -p, each new directory private to the user.
bool make_directories(const std::string &path) {
  if (path.empty())
    return false;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty())
      continue;
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return false;
  }
  return true;
}

std::string octal(mode_t mode) {
  char text[8];
  snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

} // namespace

bool CompileCache::open(std::string &error) {
  if (directory_.empty()) {
    error = "no cache directory (set HVT_CACHE_DIR or HOME)";
    return false;
  }
  struct stat st;
  if (lstat(directory_.c_str(), &st) != 0) {
    if (!make_directories(directory_) || lstat(directory_.c_str(), &st) != 0) {
      error = "cannot create " + directory_ + ": " + strerror(errno);
      return false;
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    error = directory_ + " is not a directory";
    return false;
  }
  if (st.st_uid != geteuid()) {
    error = directory_ + " belongs to uid " + std::to_string(st.st_uid) +
            ", not to this user";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    error = directory_ + " is not private (mode " + octal(st.st_mode) +
            "; it must be 0700)";
    return false;
  }
  return true;
}

CompileCache::Lookup CompileCache::load(const std::string &key) {
  Lookup result;
  std::string path = entry_path(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    result.status = errno == ENOENT ? Status::Miss : Status::Rejected;
    result.reason = strerror(errno);
    if (result.status == Status::Rejected)
      unlink(path.c_str());
    return result;
  }
  auto reject = [&](std::string reason) {
    close(fd);
    unlink(path.c_str());
    result.status = Status::Rejected;
    result.reason = std::move(reason);
    return result;
  };
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return reject("not a regular file");
  if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
    return reject("not owned by this user or writable by others");
  if (static_cast<uint64_t>(st.st_size) > kMaxEntryBytes)
    return reject("too large");
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return reject("short read");
    done += static_cast<size_t>(n);
  }
  CompiledProgram program;
  std::vector<CacheDependency> deps;
  std::string error;
  if (!decode_cache_entry(bytes, key, compiler_id_, program, deps, error))
    return reject(error);
  for (const auto &dep : deps)
    if (!dependency_current(dep))
      return reject("stale: " + dep.path + " changed");
  // Most recently used entries are the ones trim() keeps.
  futimens(fd, nullptr);
  close(fd);
  result.status = Status::Hit;
  result.program = std::move(program);
  return result;
}

bool CompileCache::store(const std::string &key, const CompiledProgram &program,
                         std::string &error,
                         const std::vector<CacheDependency> &more_deps) {
  std::vector<CacheDependency> deps = program_dependencies(program);
  deps.insert(deps.end(), more_deps.begin(), more_deps.end());
  std::string bytes = encode_cache_entry(key, compiler_id_, program, deps);
  if (bytes.size() > kMaxEntryBytes) {
    error = "program too large to cache";
    return false;
  }
  std::string temp = directory_ + "/.tmp.XXXXXX";
  int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    error = "cannot create a file in " + directory_ + ": " + strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == bytes.size() && fchmod(fd, 0600) == 0;
  ok = close(fd) == 0 && ok;
  // rename() makes the entry appear complete or not at all.
  if (!ok || rename(temp.c_str(), entry_path(key).c_str()) != 0) {
    error = "cannot write " + entry_path(key) + ": " + strerror(errno);
    unlink(temp.c_str());
    return false;
  }
  trim();
  return true;
}

void CompileCache::trim() {
  struct Entry {
    std::string path;
    int64_t used; // mtime: last store or hit
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  auto now =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  DIR *dir = opendir(directory_.c_str());
  if (!dir)
    return;
  while (dirent *e = readdir(dir)) {
    std::string name = e->d_name;
    std::string path = directory_ + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    // Left behind by a run that died while storing.
    if (name.rfind(".tmp.", 0) == 0) {
      if (now - st.st_mtim.tv_sec > 3600)
        unlink(path.c_str());
      continue;
    }
    if (name.size() <= strlen(kEntrySuffix) ||
        name.compare(name.size() - strlen(kEntrySuffix), std::string::npos,
                     kEntrySuffix) != 0)
      continue;
    entries.push_back(
        {path, st.st_mtim.tv_sec, static_cast<uint64_t>(st.st_size)});
    total += static_cast<uint64_t>(st.st_size);
  }
  closedir(dir);
  if (entries.size() <= kMaxEntries && total <= kMaxBytes)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  size_t count = entries.size();
  for (const auto &e : entries) {
    if (count <= kMaxEntries && total <= kMaxBytes)
      break;
    if (unlink(e.path.c_str()) == 0) {
      --count;
      total -= e.size;
    }
  }
}

// ---------------------------------------------------------------------------
// The driver's entry point

std::optional<CompiledProgram> compile_cached(const SourceFile &source,
                                              const CompileOptions &options,
                                              const CacheOptions &cache_options,
                                              Diagnostics &diags,
                                              const Compiler *compiler) {
  std::ostream *log = cache_options.verbose ? cache_options.log : nullptr;
  auto say = [log](const std::string &text) {
    if (log)
      *log << "hvt: compile cache: " << text << '\n';
  };
  if (cache_options.deferred_store)
    *cache_options.deferred_store = nullptr;
  bool dumps = options.dump_ast || options.codegen.dump_ir ||
               options.codegen.dump_ir_optimized || options.codegen.dump_asm;
  // -c's child pid is new on every run: such programs never repeat.
  bool wanted =
      cache_options.enabled && !dumps && options.semantic.child_pid == 0;
  Compiler own;
  if (!compiler) {
    own.compile = compile_here;
    // Read from the binaries (~0.2 ms): only when the cache is used.
    if (wanted)
      own.identity = compiler_identity();
    compiler = &own;
  }
  bool cacheable = wanted && !compiler->identity.empty();
  if (!cacheable) {
    if (cache_options.enabled && !dumps)
      say("off for this program");
    return compiler->compile(source, options, diags);
  }

  std::string directory = cache_options.directory.empty()
                              ? default_cache_directory()
                              : cache_options.directory;
  CompileCache cache(directory, compiler->identity);
  std::string error;
  if (!cache.open(error)) {
    say("off: " + error);
    return compiler->compile(source, options, diags);
  }
  std::string key = cache.key(source, options);
  auto found = cache.load(key);
  timeline_mark(found.status == CompileCache::Status::Hit ? "cache-hit"
                                                          : "cache-miss");
  if (found.status == CompileCache::Status::Hit) {
    say("hit " + cache.entry_path(key));
    return std::move(found.program);
  }
  if (found.status == CompileCache::Status::Rejected)
    say("rejected " + cache.entry_path(key) + ": " + found.reason +
        "; compiling again");

  auto compiled = compiler->compile(source, options, diags);
  if (!compiled || !diags.all().empty())
    return compiled;
  auto store = [cache, key, source,
                say](const CompiledProgram &program) mutable {
    std::string error;
    if (cache.store(key, program, error, header_dependencies(source)))
      say("miss; stored " + cache.entry_path(key));
    else
      say("miss; not stored: " + error);
  };
  if (cache_options.deferred_store)
    *cache_options.deferred_store = std::move(store);
  else
    store(*compiled);
  return compiled;
}

} // namespace hvt
