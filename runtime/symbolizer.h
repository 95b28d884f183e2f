// Addresses -> symbol names, for ksym(), usym(), func, kstack and ustack, and
// names -> addresses for kaddr(). Kernel symbols come from /proc/kallsyms,
// user symbols from /proc/PID/maps and the symbol tables of the mapped ELF
// files. Everything is loaded on first use and cached for the life of the
// process (one traced run), like bpftrace's per-pid symbol cache.
//
// Thread-compatible, not thread-safe: the runtime formats output on one
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hvt::symbolizer {

struct ResolvedSymbol {
  std::string name;    // demangled for C++ user symbols
  uint64_t offset = 0; // address - symbol start
  std::string module;  // user symbols: path of the mapped file
};

// The address of kernel symbol `name`, or nullopt when /proc/kallsyms has no
// such symbol (or hides addresses from this user).
std::optional<uint64_t> kernel_address(std::string_view name);

// The kernel symbol at or below `address` (bpftrace's resolution: the
// closest symbol that starts at or before the address).
std::optional<ResolvedSymbol> resolve_kernel(uint64_t address);

// The function of process `pid` containing `address`, through the file
// mapped there. nullopt when the process is gone, the mapping is anonymous
// or the file has no symbol for it.
std::optional<ResolvedSymbol> resolve_user(uint32_t pid, uint64_t address);

// bpftrace's text for an address it cannot name: "0x1f40" (C++ stream
// formatting of a pointer, so 0 prints as "0").
std::string unknown_address(uint64_t address);

// Drops every cached table (tests; a long-lived process after exec()s).
void clear_caches();

} // namespace hvt::symbolizer
