// The compile cache: a second run of an unchanged script loads the stored
// BPF object and its metadata instead of compiling, so it never parses the
// script or touches LLVM (the code generator is a plugin, compiler_host.h,
// that a cached run does not even load).
//
// An entry is keyed by SHA-256 over everything that decides the compiled
// output: the script text and name, $1..$N and the compile options, the
// environment variables the compiler reads, hvt's version and the build ids
// of the hvt binary and its code generator plugin, and the kernel's identity
// (release, build id, vmlinux BTF size, loaded modules, and the boot: kernel
// addresses the compiler resolves change with KASLR). The entry also records
// what the program depends on outside the kernel build: the tracepoint format
// files and uprobe binaries it used, and the C headers its #include directives
// can reach, checked again before every load.
//
// Entries live in one private directory (0700, owned by the user; anything
// else is not used). Each is a single file written atomically and sealed
// with a SHA-256 of its contents; the key is checked too. A corrupt, foreign or
// stale entry is deleted and rebuilt, never loaded. The directory keeps the
// most recently used entries.
#pragma once

#include "driver/pipeline.h"
#include "program.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hvt {

struct CacheOptions {
  bool enabled = true;
  std::string directory; // empty: default_cache_directory()
  // Say on `log` what the cache did (hit, miss, rejected entry, off).
  bool verbose = false;
  std::ostream *log = nullptr;
  // When set, a miss's entry is not written before compile_cached()
  // returns: *deferred_store is set to what writes it, for the caller to
  // call with the returned program once nothing waits for it (hvt: after
  // the probes are attached). Writing it takes ~0.3 ms, more with many
  // entries to trim. Left empty when there is nothing to store.
  std::function<void(const CompiledProgram &)> *deferred_store = nullptr;
};

// $HVT_CACHE_DIR, else $XDG_CACHE_HOME/hvt, else $HOME/.cache/hvt; "" when
// none of them is set.
std::string default_cache_directory();

// What compiles on a miss: a function like compile() (pipeline.h) and an
// identity that changes whenever its output may change.
struct Compiler {
  std::optional<CompiledProgram> (*compile)(const SourceFile &,
                                            const CompileOptions &,
                                            Diagnostics &) = nullptr;
  std::string identity;
};

// Compiles `source` like compile() (pipeline.h), through the cache when the
// options allow it: dump stages (-d) and -c's child pid always compile.
// `compiler` does the real work on a miss; null means hvt's own compiler
// (compiler_host.h). Programs whose compilation reported any diagnostic
// are not stored, so warnings show on every run.
std::optional<CompiledProgram>
compile_cached(const SourceFile &source, const CompileOptions &options,
               const CacheOptions &cache, Diagnostics &diags,
               const Compiler *compiler = nullptr);

// The building blocks, exposed for tests and tools.

std::string sha256_hex(std::string_view data);

// The kernel's identity as the cache sees it. $HVT_CACHE_KERNEL_ID replaces
// it (tests use this to simulate another kernel).
std::string kernel_identity();

// One dependency of a compiled program: a path and what the compiler saw
// there: "absent", "sha256:HEX" of its contents (tracepoint formats) or
// "stat:DEV:INO:SIZE:MTIME" (binaries).
struct CacheDependency {
  std::string path;
  std::string digest;
  bool operator==(const CacheDependency &other) const = default;
};
std::vector<CacheDependency> program_dependencies(const CompiledProgram &p);
// The C headers the script's #include directives can reach (stat digests),
// and "absent" for each place a missing one was looked for: a changed,
// added or removed header changes the macros the program was compiled with.
std::vector<CacheDependency> header_dependencies(const SourceFile &source);
// Whether `dep` still describes what is at its path.
bool dependency_current(const CacheDependency &dep);

class CompileCache {
public:
  // `compiler_id`: Compiler::identity of whatever fills the cache.
  CompileCache(std::string directory, std::string compiler_id);

  // Creates the directory (0700) when missing and checks that it is a
  // private directory of the effective user. False, with the reason, when
  // the cache cannot be used.
  bool open(std::string &error);

  const std::string &directory() const { return directory_; }
  std::string entry_path(const std::string &key) const;

  // The key of `source` compiled with `options` on this kernel.
  std::string key(const SourceFile &source,
                  const CompileOptions &options) const;

  enum class Status { Hit, Miss, Rejected };
  struct Lookup {
    Status status = Status::Miss;
    std::string reason; // Rejected: what was wrong with the entry
    std::optional<CompiledProgram> program;
  };
  // Loads the entry for `key`. A rejected entry has been deleted.
  Lookup load(const std::string &key);

  // Stores `program` under `key` (atomically), then trims the directory to
  // its limits. The entry depends on program_dependencies() and `more_deps`.
  bool store(const std::string &key, const CompiledProgram &program,
             std::string &error,
             const std::vector<CacheDependency> &more_deps = {});

  // At most this many entries / bytes are kept (least recently used go).
  static constexpr size_t kMaxEntries = 256;
  static constexpr uint64_t kMaxBytes = 256ull << 20;
  static constexpr uint64_t kMaxEntryBytes = 64ull << 20;

private:
  void trim();
  std::string directory_;
  std::string compiler_id_;
  mutable std::string kernel_id_;
};

// Entry files: exposed so tests can build and damage entries. An entry is
//   "HVTCACHE" u32 version, u32 header size, u64 metadata size, u64 ELF size
//   header JSON {key, compiler, deps: [[path, digest]...]}
//   metadata JSON (program_io.h), ELF bytes, SHA-256 of all of the above.
std::string encode_cache_entry(const std::string &key,
                               const std::string &compiler_id,
                               const CompiledProgram &program,
                               const std::vector<CacheDependency> &deps);
// Checks and decodes an entry for `key`; false with the reason otherwise.
bool decode_cache_entry(std::string_view bytes, const std::string &key,
                        const std::string &compiler_id,
                        CompiledProgram &program,
                        std::vector<CacheDependency> &deps, std::string &error);

} // namespace hvt
