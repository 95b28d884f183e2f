// Formatting of everything a running program prints: printf records, maps,
// print(value), time(). Text output reproduces bpftrace 0.17 byte for byte.
//
// Everything here is pure (no kernel, no libbpf): the runtime reads map
// entries and ring-buffer records and hands the bytes over; tests build the
// bytes by hand.
#pragma once

#include "program.h"

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace hvt {

enum class OutputFormat { Text, Json };

// ---------------------------------------------------------------------------
// printf

// A printf format split once into literal text and conversions, so that
// formatting a record does no parsing. Supports bpftrace's conversions
// %d %i %u %x %X %o %s %c %p and %%, flags "-+ #0", width, precision and the
// length modifiers hh h l ll z j t. Each argument is read as the Type stored
// in PrintfDesc::args (sign- or zero-extended to 64 bits) and then converted
// to the C type the conversion and length modifier name, exactly like
// bpftrace 0.17 passing a 64-bit value to snprintf: "%d" of 5000000000
// prints 705032704, "%hhu" of -42 prints 214. A NUL that %c produces ends
// that conversion's text, as in bpftrace. One deliberate difference: "%%"
// always prints "%", while bpftrace 0.17 prints "%%" verbatim after the
// last conversion (printf("100%%\n") shows "100%%" there).
// Unknown or malformed conversions, and conversions whose argument is
// missing from the record, are printed as written.
class PrintfFormatter {
public:
  explicit PrintfFormatter(const PrintfDesc &desc);
  // `payload` is the record after its EventHeader.
  std::string format(const uint8_t *payload, size_t len) const;

private:
  // cat(): the file named by the formatted text, or "" after reporting why
  // it cannot be read on stderr (as bpftrace does).
  static std::string file_contents(const std::string &path);

  enum class Length : uint8_t { None, HH, H, L, LL, J, Z, T };
  struct Piece {
    std::string literal; // text printed before the conversion
    std::string spec;    // "%-08" + length + conversion, ready for snprintf
    char conversion = 0; // 0: no conversion (trailing literal only)
    Length length = Length::None;
    size_t arg = 0;
  };
  std::vector<Piece> pieces_;
  std::vector<std::pair<Type, uint32_t>> args_; // type and payload offset
  PrintfAction action_ = PrintfAction::Print;
};

// One-shot convenience wrapper around PrintfFormatter.
std::string format_printf(const PrintfDesc &desc, const uint8_t *payload,
                          size_t len);

// ---------------------------------------------------------------------------
// Maps

// One entry as read from the BPF map: the BPF key (MapDesc::bpf_key_size()
// bytes; for hist/lhist the user key followed by the uint64 bucket) and the
// value with per-CPU copies already merged (MapDesc::bpf_value_size()
// bytes).
struct MapEntry {
  std::vector<uint8_t> key;
  std::vector<uint8_t> value;
};

// Merges the per-CPU copies of one value into one, the only place where
// per-CPU values are combined. `values` holds `ncpus` copies, each
// round_up(bpf_value_size(), 8) bytes apart (the layout
// bpf_map_lookup_elem() fills for per-CPU maps):
//   count/sum/hist/lhist: sum; min/max: min/max over the CPUs whose `set`
//   flag is non-zero ({0, 0} when none is); avg/stats: sum of {sum, count};
//   plain values (per-CPU variables): the first CPU's copy that is not all
//   zeros, else zeros.
std::vector<uint8_t> merge_percpu(const MapDesc &map, const uint8_t *values,
                                  size_t ncpus);

// print(@map, top, div) arguments; top 0 prints every entry, div divides
// the printed values as bpftrace does.
struct MapPrintArgs {
  uint64_t top = 0;
  uint64_t div = 1;
};

// bpftrace 0.17 text of a whole map, including its trailing newline(s).
// Entries are sorted ascending by value (count/sum/min/max and integer
// values), by average (avg/stats), by total count (hist/lhist), otherwise by
// key; equal values keep key order (bpftrace leaves ties in hash order).
// Keys are ordered as bpftrace orders them: integers unsigned, strings with
// strncmp. An empty map prints as "\n" ("\n\n" for avg/stats), which is what
// bpftrace prints for it at exit; but a key-less count() map, which bpftrace
// 0.17 keeps in an array whose one slot always exists, prints its 0.
std::string format_map(const MapDesc &map, std::vector<MapEntry> entries,
                       MapPrintArgs args = {});

// A single value as print(value) shows it (no trailing newline): integers
// in decimal, strings up to their NUL, tuples as "(1, abc)", addresses as
// symbols, stacks as one indented frame per line, uids as user names,
// strftime() values as local time.
std::string format_value(const Type &type, const uint8_t *data, size_t len);

// Reads the frames (innermost first) of stack `id` from the program's stack
// map of `limit`-frame stacks; false when the stack is not there. The
// runtime installs one once the BPF object is loaded (language_support.h)
// and removes it (empty function) before closing the object; without one,
// stacks print no frames.
using StackReader =
    std::function<bool(uint32_t limit, int64_t id, std::vector<uint64_t> &)>;
void set_stack_reader(StackReader reader);

// time(format): strftime() of `when` in local time. An empty format means
// bpftrace's default "%H:%M:%S\n".
std::string format_time(const std::string &format, time_t when);

// The histogram label of power-of-two bucket `index` in the BPF layout
// ("(..., 0)", "[0]", "[1]", "[2, 4)", ..., "[4E, 8E)"). Exposed for tests.
std::string hist_bucket_label(size_t index);

// ---------------------------------------------------------------------------
// Output sinks

// Where a running program's output goes. One implementation per
// OutputFormat; the runtime only talks to this interface.
class Output {
public:
  virtual ~Output() = default;
  // "Attaching N probes..."
  virtual void attached_probes(size_t count) = 0;
  // A formatted printf() result, printed as is.
  virtual void printf_result(const std::string &text) = 0;
  // A formatted time() result, printed as is.
  virtual void time_result(const std::string &text) = 0;
  // print(value)
  virtual void value(const Type &type, const uint8_t *data, size_t len) = 0;
  // print(@map) and the maps printed at exit.
  virtual void map(const MapDesc &map, std::vector<MapEntry> entries,
                   MapPrintArgs args) = 0;
  // Printed once after END ran, before the maps are printed at exit.
  virtual void end_of_run() = 0;
  // "Lost N events": records the ring buffer had no room for.
  virtual void lost_events(uint64_t count) = 0;
  // A runtime error or warning. Text output prints nothing (diagnostics go
  // to stderr); JSON output adds an "error"/"warning" record with the
  // message, its script location and hints.
  virtual void diagnostic(const Diagnostic &d) = 0;
  virtual void flush() = 0;
};

std::unique_ptr<Output> make_output(OutputFormat format, std::ostream &out);

} // namespace hvt
