#include "passes/tracepoint_format.h"

#include "tracefs.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>

namespace hvt {

namespace {

// bpftrace's default string size: __data_loc strings are read into this.
constexpr uint32_t kDataLocStringSize = 64;

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "field:unsigned int vec" -> c_type "unsigned int", name "vec";
// "char comm[16]" -> c_type "char[16]", name "comm".
void split_declaration(std::string decl, TracepointField &field) {
  decl = trim(decl);
  // An array suffix follows the name ("char comm[16]"); in
  // "__data_loc char[] name" the brackets belong to the type.
  std::string array;
  size_t bracket = decl.rfind('[');
  if (!decl.empty() && decl.back() == ']' && bracket != std::string::npos) {
    array = decl.substr(bracket);
    decl = trim(decl.substr(0, bracket));
  }
  size_t split = decl.find_last_of(" *");
  field.name = decl.substr(split + 1);
  field.c_type = trim(decl.substr(0, split + 1)) + array;
}

void derive_type(TracepointField &field) {
  const std::string &t = field.c_type;
  if (t.rfind("__data_loc", 0) == 0) {
    field.data_loc = true;
    field.type = Type::string(kDataLocStringSize);
    return;
  }
  bool is_char = t.rfind("char[", 0) == 0 || t.rfind("const char[", 0) == 0 ||
                 t.rfind("unsigned char[", 0) == 0;
  if (is_char && t.back() == ']') {
    field.char_array = true;
    field.type = Type::string(field.size);
    return;
  }
  if (field.size == 1 || field.size == 2 || field.size == 4 || field.size == 8) {
    bool pointer = t.find('*') != std::string::npos;
    field.type = Type::integer(field.size, field.is_signed && !pointer);
    return;
  }
  field.type = Type::none(); // arrays of other things: not readable yet
}

} // namespace

const TracepointField *TracepointFormat::find(const std::string &name) const {
  for (const auto &field : fields)
    if (field.name == name)
      return &field;
  return nullptr;
}

std::vector<std::string> TracepointFormat::field_names() const {
  std::vector<std::string> names;
  for (const auto &field : fields)
    names.push_back(field.name);
  return names;
}

std::optional<TracepointFormat> parse_tracepoint_format(const std::string &text) {
  TracepointFormat format;
  std::istringstream in(text);
  std::string line;
  bool saw_format = false;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.rfind("name:", 0) == 0) {
      format.name = trim(t.substr(5));
    } else if (t.rfind("format:", 0) == 0) {
      saw_format = true;
    } else if (t.rfind("print fmt:", 0) == 0) {
      format.print_fmt = trim(t.substr(10));
    } else if (t.rfind("field:", 0) == 0) {
      // field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;
      TracepointField field;
      std::vector<std::string> parts;
      std::stringstream ss(t);
      std::string part;
      while (std::getline(ss, part, ';'))
        if (!trim(part).empty())
          parts.push_back(trim(part));
      if (parts.size() < 3)
        return std::nullopt;
      split_declaration(parts[0].substr(6), field);
      try {
        for (size_t i = 1; i < parts.size(); ++i) {
          auto colon = parts[i].find(':');
          if (colon == std::string::npos)
            continue;
          std::string key = parts[i].substr(0, colon);
          unsigned long value = std::stoul(parts[i].substr(colon + 1));
          if (key == "offset")
            field.offset = value;
          else if (key == "size")
            field.size = value;
          else if (key == "signed")
            field.is_signed = value != 0;
        }
      } catch (const std::exception &) {
        return std::nullopt;
      }
      if (field.name.rfind("common_", 0) == 0)
        continue;
      derive_type(field);
      format.fields.push_back(std::move(field));
    }
  }
  if (!saw_format)
    return std::nullopt;
  return format;
}

std::shared_ptr<const TracepointFormat>
load_tracepoint_format(const std::string &category, const std::string &name,
                       std::string &error) {
  static std::mutex lock;
  static std::map<std::string, std::shared_ptr<const TracepointFormat>> cache;
  std::lock_guard<std::mutex> guard(lock);
  std::string key = category + ":" + name;
  if (auto it = cache.find(key); it != cache.end())
    return it->second;

  if (tracefs::root().empty()) {
    error = "tracefs is not mounted and could not be mounted";
    return nullptr;
  }
  std::string path = tracefs::format_path(category, name);
  std::ifstream file(path);
  if (!file) {
    struct stat st;
    std::string dir = tracefs::root() + "/events/" + category;
    error = stat(dir.c_str(), &st) != 0
                ? "tracepoint category '" + category +
                      "' does not exist on this kernel"
                : "tracepoint '" + key + "' does not exist on this kernel";
    return nullptr;
  }
  std::stringstream text;
  text << file.rdbuf();
  auto parsed = parse_tracepoint_format(text.str());
  if (!parsed) {
    error = "cannot parse " + path;
    return nullptr;
  }
  parsed->category = category;
  auto shared = std::make_shared<const TracepointFormat>(std::move(*parsed));
  cache.emplace(key, shared);
  return shared;
}

} // namespace hvt
