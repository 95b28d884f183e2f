// The contract between compiler and runtime: a BPF ELF object plus the
// metadata the runtime needs to attach its programs and to decode and print
// what they produce. Nothing here depends on LLVM or libbpf.
#pragma once

#include "frontend/diagnostics.h"
#include "types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hvt {

enum class ProbeKind : uint8_t {
  Begin,
  End,
  Tracepoint,
  RawTracepoint,
  Kprobe,
  Kretprobe,
  Fentry,
  Fexit,
  Uprobe,
  Uretprobe,
  Profile,
  Interval,
  Software,
  Hardware,
};

// One BPF program = one attach point of one probe.
struct ProbeDesc {
  ProbeKind kind = ProbeKind::Begin;
  std::string program_name; // function symbol in the ELF
  std::string display;      // "tracepoint:syscalls:sys_enter_openat"
  std::string target;       // tracepoint "cat:name", function, path, event
  std::string function;     // uprobe symbol
  uint64_t offset = 0;      // kprobe/uprobe +OFF
  uint64_t period = 0;      // interval/profile: ns; software/hardware: count
  uint64_t frequency = 0;   // profile:hz:N
  SourceRange range;        // the attach point in the script
  size_t probe_index = 0;   // which probe block (several attach points share)
};

// How a map's values are combined and printed.
enum class AggKind : uint8_t {
  None, // plain assigned value of `value` type
  Count,
  Sum,
  Min,   // value: {value, set}
  Max,   // value: {value, set}
  Avg,   // value: {sum, count}
  Stats, // value: {sum, count}
  Hist,  // one map entry per (key, bucket)
  LHist, // one map entry per (key, bucket)
};

enum class MapStorage : uint8_t { Hash, PercpuHash, LruHash, PercpuLruHash, Array, PercpuArray };

struct MapDesc {
  std::string name;     // as the user wrote it: "@x", "@"
  std::string elf_name; // the map's symbol in the ELF
  Type key;             // None: scalar map (single slot)
  Type value;           // AggKind::None: the stored type
  AggKind agg = AggKind::None;
  MapStorage storage = MapStorage::Hash;
  uint32_t max_entries = 0;
  int64_t lhist_min = 0, lhist_max = 0, lhist_step = 0;
  SourceRange range; // first use, for runtime warnings
  // For hist/lhist the BPF key is the user key followed by a uint64 bucket.
  uint32_t bpf_key_size() const;
  uint32_t bpf_value_size() const; // per CPU for per-CPU storage
};

// Ring-buffer records start with this header.
enum class EventKind : uint32_t {
  Printf = 1, // id: index into printfs; payload: args tuple
  Exit = 2,   // no payload
  PrintMap = 3, // id: map index; payload: uint64 top, uint64 div
  ClearMap = 4, // id: map index
  ZeroMap = 5,  // id: map index
  PrintValue = 6, // id: index into values; payload: the value
  Time = 7,   // id: index into time formats
};

struct EventHeader {
  uint32_t kind;
  uint32_t id;
};

struct PrintfDesc {
  std::string format; // the user's format string, escapes already decoded
  Type args;          // tuple of the arguments as stored in the record
  SourceRange range;
};

struct CompiledProgram {
  std::vector<uint8_t> elf;
  std::vector<ProbeDesc> probes;
  std::vector<MapDesc> maps;
  std::vector<PrintfDesc> printfs;
  std::vector<Type> print_values; // print(value) payload types
  std::vector<std::string> time_formats;
  std::string ringbuf_name = "ringbuf"; // ELF name of the output ring buffer
  uint32_t ringbuf_size = 1 << 20;
};

} // namespace hvt
