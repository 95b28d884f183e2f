#include "passes/tracepoint_format.h"
#include "frontend/install_paths.h"
#include "passes/host_fields.h"

#include "tracefs.h"

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

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
  if (field.size == 1 || field.size == 2 || field.size == 4 ||
      field.size == 8) {
    bool pointer = t.find('*') != std::string::npos;
    field.type = Type::integer(field.size, field.is_signed && !pointer);
    field.type.is_pointer = pointer && field.size == 8;
    return;
  }
  field.type = Type::none(); // arrays of other things: not readable yet
}

bool is_directory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> subdirectories(const std::string &path) {
  std::vector<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (auto *entry = readdir(dir))
      if (entry->d_name[0] != '.' && is_directory(path + "/" + entry->d_name))
        names.emplace_back(entry->d_name);
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string find_shipped_formats_dir() {
  if (const char *env = getenv("HVT_FORMATS_DIR"); env && is_directory(env))
    return env;
  if (std::string dir = executable_directory(); !dir.empty()) {
    std::string installed = dir + "/../share/hvt/scripts/formats";
    if (is_directory(installed))
      return installed;
  }
#ifdef HVT_SOURCE_FORMATS_DIR
  if (is_directory(HVT_SOURCE_FORMATS_DIR))
    return HVT_SOURCE_FORMATS_DIR;
#endif
  return "";
}

std::string read_text(const std::string &path, bool &ok) {
  std::ifstream file(path);
  ok = static_cast<bool>(file);
  std::stringstream text;
  if (ok)
    text << file.rdbuf();
  return text.str();
}

} // namespace

const std::string &shipped_formats_dir() {
  static const std::string dir = find_shipped_formats_dir();
  return dir;
}

std::vector<std::string> tracepoint_categories() {
  std::vector<std::string> names = tracefs::categories();
  if (!shipped_formats_dir().empty())
    for (const auto &category : subdirectories(shipped_formats_dir()))
      if (!std::binary_search(names.begin(), names.end(), category))
        names.push_back(category);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> tracepoints_in(const std::string &category) {
  if (!tracefs::root().empty() &&
      is_directory(tracefs::root() + "/events/" + category))
    return tracefs::events(category);
  if (shipped_formats_dir().empty())
    return {};
  return subdirectories(shipped_formats_dir() + "/" + category);
}

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

std::optional<TracepointFormat>
parse_tracepoint_format(const std::string &text) {
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
      // The last entry; a format string may hold raw newlines, so it runs
      // to the end of the file.
      format.print_fmt = trim(t.substr(10));
      for (std::string rest; std::getline(in, rest);)
        format.print_fmt += "\n" + rest;
      while (!format.print_fmt.empty() && format.print_fmt.back() == '\n')
        format.print_fmt.pop_back();
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
  // The fixed fields follow $HVT_KVM_ISA (passes/host_fields.h).
  const char *forced_isa = getenv("HVT_KVM_ISA");
  std::string cache_key = key + "/" + (forced_isa ? forced_isa : "");
  if (auto it = cache.find(cache_key); it != cache.end())
    return it->second;

  bool ok = false;
  std::string path, text;
  if (!tracefs::root().empty()) {
    path = tracefs::format_path(category, name);
    text = read_text(path, ok);
  }
  bool shipped = false;
  if (!ok) {
    // Why the kernel lacks it, reported if hvt has no copy either.
    if (tracefs::root().empty())
      error = "tracefs is not mounted and could not be mounted";
    else if (!is_directory(tracefs::root() + "/events/" + category))
      error = "tracepoint category '" + category +
              "' does not exist on this kernel";
    else
      error = "tracepoint '" + key + "' does not exist on this kernel";
    if (shipped_formats_dir().empty())
      return nullptr;
    path = shipped_formats_dir() + "/" + category + "/" + name + "/format";
    text = read_text(path, ok);
    if (!ok)
      return nullptr;
    shipped = true;
  }
  auto parsed = parse_tracepoint_format(text);
  if (!parsed) {
    error = "cannot parse " + path;
    return nullptr;
  }
  parsed->category = category;
  parsed->shipped = shipped;
  parsed->fixed_fields = host_fixed_fields(*parsed);
  auto shared = std::make_shared<const TracepointFormat>(std::move(*parsed));
  cache.emplace(cache_key, shared);
  return shared;
}

} // namespace hvt
