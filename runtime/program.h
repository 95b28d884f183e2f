// The contract between compiler and runtime: a BPF ELF object plus the
// metadata the runtime needs to attach its programs and to decode and print
// what they produce. Nothing here depends on LLVM or libbpf.
#pragma once

#include "frontend/diagnostics.h"
#include "symbols.h"
#include "types.h"

#include <cstdint>
#include <memory>
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
  std::string target;       // tracepoint "cat:name", raw tracepoint, perf
                            // event, uprobe binary path, kernel module of a
                            // kprobe/fentry ("" for vmlinux)
  std::string function;     // kprobe/fentry/uprobe function or symbol
  uint64_t offset = 0;      // kprobe/uprobe +OFF
  uint64_t period = 0;      // interval/profile: ns; software/hardware: count
  uint64_t frequency = 0;   // profile:hz:N
  SourceRange range;        // the attach point in the script
  size_t probe_index = 0;   // which probe block (several attach points share)
  // kprobe <-> fentry (kretprobe <-> fexit) twin of the ProbeDesc right
  // before it, for the same function: the runtime loads and attaches it only
  // when that one cannot be loaded or attached.
  bool fallback = false;
  // --- performance: given to the link (BPF_LINK_CREATE's bpf_cookie): the
  // index of the attach point in its probe, when the program the probe's
  // tracepoints share reads `probe` by it (codegen's probe_by_cookie()).
  uint64_t attach_cookie = 0;
  // --- performance: a BEGIN or END whose every statement sends a constant
  // record (printf of literals, exit(), print/clear/zero of a whole map) has
  // no program (program_name is ""): these are its records, each a u32
  // length then the record, which the runtime handles where the program
  // would have sent them.
  std::vector<uint8_t> constant_records;
};

// An attach point the compiler built no program for (a missing tracepoint
// whose fields the probe reads). The probe still runs on its other attach
// points; the runtime reports this one with -v, or fails when the probe has
// nothing else.
struct SkippedAttachPoint {
  std::string display; // "tracepoint:xen:xen_mc_entry"
  SourceRange range;
  size_t probe_index = 0;
  std::string reason;
  std::vector<std::string> hints;
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
  // Entries the runtime writes after loading, before BEGIN runs (BEGIN's
  // constant assignments, passes/initial_entries.h): bpf_key_size() and
  // bpf_value_size() bytes per entry, back to back, in statement order.
  std::vector<uint8_t> initial_keys;
  std::vector<uint8_t> initial_values;
  // For hist/lhist the BPF key is the user key followed by a uint64 bucket;
  // a key-less one in an array is indexed by the u32 bucket alone.
  uint32_t bpf_key_size() const;
  uint32_t bpf_value_size() const; // per CPU for per-CPU storage
  // The BPF map the code generator defines for it: its BPF_MAP_TYPE_* and
  // map_flags (the runtime may create it ahead, runtime/objects_ahead.h).
  uint32_t bpf_map_type() const;
  uint32_t bpf_map_flags() const;
  // The ELF symbol (and kernel name) of map `name` ("@x" -> "m_x").
  static std::string elf_name_of(const std::string &name);
};

// `text` as a C identifier's characters: anything not alphanumeric becomes
// '_' (BPF program and map names in the ELF).
std::string bpf_identifier(const std::string &text);

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

// What user space does with a printf record's formatted text.
enum class PrintfAction : uint8_t {
  Print, // printf() and join(): print it
  Cat,   // cat(): it names a file; print the file's contents
};

struct PrintfDesc {
  std::string format; // the user's format string, escapes already decoded
  Type args;          // tuple of the arguments as stored in the record
  SourceRange range;
  PrintfAction action = PrintfAction::Print;
};

// A BPF_MAP_TYPE_STACK_TRACE map holding stacks of up to `limit` frames
// (kstack/ustack values name their map by that limit).
struct StackMapDesc {
  std::string elf_name;
  uint32_t limit = 0;
};

struct CompiledProgram {
  std::vector<uint8_t> elf;
  std::vector<ProbeDesc> probes;
  std::vector<MapDesc> maps;
  std::vector<PrintfDesc> printfs;
  std::vector<Type> print_values; // print(value) payload types
  std::vector<std::string> time_formats;
  // Name tables of symbolic() values (the same object their Types share).
  std::shared_ptr<const SymbolTables> symbol_tables;
  std::vector<SkippedAttachPoint> skipped;
  std::string ringbuf_name = "ringbuf"; // ELF name of the output ring buffer
  // Data section holding one u64 at offset 0 (and nothing else): records
  // the ring buffer had no room for; the runtime reads it (libbpf's
  // internal map of that section, key 0) and reports them as lost events.
  // Absent from programs that send no records.
  std::string lost_events_name = ".bss";
  uint32_t ringbuf_size = 1 << 20;
  // Language state the runtime sets up after loading (language_support.h).
  std::vector<StackMapDesc> stack_maps;
  // u64 array, one slot: the CLOCK_MONOTONIC time `elapsed` counts from.
  // Empty when the program does not use elapsed.
  std::string elapsed_map;
};

} // namespace hvt
