// Tracepoint argument layouts, read from the kernel's format files
// (events/CAT/NAME/format). The semantic pass types `args->field` from them
// and codegen reads fields at the offsets given here.
#pragma once

#include "types.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hvt {

struct TracepointField {
  std::string name;
  std::string c_type;   // as written: "const char *", "char[16]" ...
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
  const TracepointField *find(const std::string &field) const;
  std::vector<std::string> field_names() const;
};

// Parses the text of a format file. Returns nullopt on malformed text.
std::optional<TracepointFormat> parse_tracepoint_format(const std::string &text);

// Reads and parses the format file for CAT:NAME from tracefs. `error` gets
// a reason when it returns null.
std::shared_ptr<const TracepointFormat>
load_tracepoint_format(const std::string &category, const std::string &name,
                       std::string &error);

} // namespace hvt
