// Tracepoint argument layouts, read from the kernel's format files
// (events/CAT/NAME/format). The semantic pass types `args->field` from them
// and codegen reads fields at the offsets given here.
#pragma once

#include "types.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hvt {

struct TracepointField {
  std::string name;
  std::string c_type; // as written: "const char *", "char[16]" ...
  uint32_t offset = 0;
  uint32_t size = 0;
  bool is_signed = false;
  bool data_loc = false; // __data_loc: u32 (len << 16 | offset) to a string
  bool char_array = false;
  Type type; // how hvt exposes the field
};

struct TracepointFormat {
  std::string category, name;
  std::vector<TracepointField> fields; // without the common_* header fields
  std::string print_fmt;
  // Read from hvt's shipped copy (scripts/formats) because the running
  // kernel lacks the tracepoint: a program using it compiles and passes the
  // verifier (--dry-run), and attaching it fails.
  bool shipped = false;
  // Fields every record on this host has the same value in
  // (passes/host_fields.h), by name.
  std::map<std::string, uint64_t> fixed_fields;
  const TracepointField *find(const std::string &field) const;
  std::vector<std::string> field_names() const;
};

// Parses the text of a format file. Returns nullopt on malformed text.
std::optional<TracepointFormat>
parse_tracepoint_format(const std::string &text);

// Reads and parses the format file for CAT:NAME from tracefs or, when the
// kernel does not have that tracepoint, from hvt's shipped formats (marked
// `shipped`). `error` gets the reason the kernel lacks it when it returns
// null.
std::shared_ptr<const TracepointFormat>
load_tracepoint_format(const std::string &category, const std::string &name,
                       std::string &error);

// The folder of shipped format files (CATEGORY/NAME/format, as in tracefs):
// $HVT_FORMATS_DIR if set, else share/hvt/scripts/formats beside the
// installed hvt binary, else the source tree's scripts/formats; "" if none
// exists.
const std::string &shipped_formats_dir();

// Names for tracepoint wildcard expansion, sorted: the kernel's categories
// and tracepoints, and for a category the kernel lacks entirely (xen on a
// non-Xen kernel) the shipped ones, so `tracepoint:xen:*` still compiles.
std::vector<std::string> tracepoint_categories();
std::vector<std::string> tracepoints_in(const std::string &category);

} // namespace hvt
