#include "output.h"

#include "symbolizer.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>

namespace hvt {

namespace {

// ---------------------------------------------------------------------------
// Reading values

uint64_t load_bits(const uint8_t *data, uint32_t size) {
  switch (size) {
  case 1:
    return data[0];
  case 2: {
    uint16_t v;
    memcpy(&v, data, 2);
    return v;
  }
  case 4: {
    uint32_t v;
    memcpy(&v, data, 4);
    return v;
  }
  default: {
    uint64_t v;
    memcpy(&v, data, 8);
    return v;
  }
  }
}

// An integer field widened to 64 bits: sign-extended when the type is
// signed, zero-extended otherwise.
uint64_t load_integer(const Type &type, const uint8_t *data) {
  uint32_t size = type.size == 0 || type.size > 8 ? 8 : type.size;
  uint64_t bits = load_bits(data, size);
  if (type.is_signed && size < 8) {
    uint64_t sign = uint64_t{1} << (size * 8 - 1);
    bits = (bits ^ sign) - sign;
  }
  return bits;
}

int64_t load_i64(const uint8_t *data) {
  int64_t v;
  memcpy(&v, data, 8);
  return v;
}

uint64_t load_u64(const uint8_t *data) {
  uint64_t v;
  memcpy(&v, data, 8);
  return v;
}

void store_u64(uint8_t *data, uint64_t v) { memcpy(data, &v, 8); }

std::string load_string(const uint8_t *data, size_t size) {
  auto chars = reinterpret_cast<const char *>(data);
  return std::string(chars, strnlen(chars, size));
}

// The fields of a key or value: a tuple's fields, or the type itself.
std::vector<std::pair<Type, uint32_t>> fields_of(const Type &type) {
  std::vector<std::pair<Type, uint32_t>> fields;
  if (type.is_tuple()) {
    for (size_t i = 0; i < type.fields.size(); ++i)
      fields.emplace_back(type.fields[i], type.offsets[i]);
  } else if (!type.is_none()) {
    fields.emplace_back(type, 0);
  }
  return fields;
}

// An address prints as a signed number in a value (as bpftrace 0.17 stores
// pointers) and in hex in a key (key_field_text()).
std::string integer_text(const Type &type, const uint8_t *data) {
  uint64_t bits = load_integer(type, data);
  if (type.is_signed || type.is_pointer)
    return std::to_string(static_cast<int64_t>(bits));
  return std::to_string(bits);
}

std::string inet_text(const Type &type, const uint8_t *data) {
  if (type.size < 16)
    return "";
  // Layout: family (the leading bytes) then 16 address bytes.
  uint32_t family_size = type.size - 16;
  uint64_t family = family_size ? load_bits(data, std::min(family_size, 8u))
                                : static_cast<uint64_t>(AF_INET);
  const uint8_t *addr = data + family_size;
  char buf[INET6_ADDRSTRLEN] = {};
  int af = family == AF_INET6 ? AF_INET6 : AF_INET;
  if (!inet_ntop(af, addr, buf, sizeof(buf)))
    return "";
  return buf;
}

// ---------------------------------------------------------------------------
// Symbolized values

StackReader &stack_reader() {
  static StackReader reader;
  return reader;
}

// bpftrace indents stack frames by 8 in printf()/print() and map values, by
// 4 in map keys.
constexpr int kValueStackIndent = 8;
constexpr int kKeyStackIndent = 4;

// "\n" and then one line per frame, innermost first, in the value's mode:
//   bpftrace  "<indent>vfs_read+4"
//   perf      "\tffffffff8130e4a4 vfs_read+4" (user frames add " (/path)")
//   raw       "ffffffff8130e4a4"
std::string stack_text(const Type &type, const uint8_t *data, int indent) {
  int64_t id = load_i64(data);
  uint32_t limit;
  memcpy(&limit, data + 8, sizeof(limit));
  auto mode = static_cast<StackMode>(data[12]);
  bool user = type.kind == TypeKind::UStack;
  auto pid = user ? static_cast<uint32_t>(load_u64(data + 16)) : 0u;
  std::string out = "\n";
  std::vector<uint64_t> frames;
  if (id < 0 || !stack_reader() || !stack_reader()(limit, id, frames))
    return out;
  for (uint64_t ip : frames) {
    if (ip == 0)
      break;
    if (mode == StackMode::Raw) {
      out += fmt::format("{:x}\n", ip);
      continue;
    }
    auto symbol = user ? symbolizer::resolve_user(pid, ip)
                       : symbolizer::resolve_kernel(ip);
    std::string name = symbol
                           ? symbol->name + "+" + std::to_string(symbol->offset)
                           : symbolizer::unknown_address(ip);
    if (mode == StackMode::Perf) {
      out += fmt::format("\t{:x} {}", ip, name);
      if (user)
        out +=
            " (" + (symbol ? symbol->module : std::string("[unknown]")) + ")";
      out += "\n";
    } else {
      out += std::string(indent, ' ') + name + "\n";
    }
  }
  return out;
}

std::string ksym_text(const uint8_t *data) {
  uint64_t address = load_u64(data);
  auto symbol = symbolizer::resolve_kernel(address);
  return symbol ? symbol->name : symbolizer::unknown_address(address);
}

std::string usym_text(const uint8_t *data) {
  uint64_t address = load_u64(data);
  auto pid = static_cast<uint32_t>(load_u64(data + 8));
  auto symbol = symbolizer::resolve_user(pid, address);
  return symbol ? symbol->name : symbolizer::unknown_address(address);
}

std::string username_text(const uint8_t *data) {
  auto uid = static_cast<uid_t>(load_u64(data));
  passwd entry, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &entry, buf, sizeof(buf), &found) == 0 && found)
    return found->pw_name;
  return std::to_string(uid); // no such user: the number, not nothing
}

// CLOCK_REALTIME minus CLOCK_MONOTONIC (the clock of nsecs), measured once
// so every timestamp of a run uses the same offset.
int64_t realtime_offset_ns() {
  static const int64_t offset = [] {
    timespec real{}, mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1000000000 +
           (real.tv_nsec - mono.tv_nsec);
  }();
  return offset;
}

std::string timestamp_text(const Type &type, const uint8_t *data) {
  int64_t ns = load_i64(data);
  std::string format = load_string(data + 8, type.size - 8);
  time_t when = static_cast<time_t>((realtime_offset_ns() + ns) / 1000000000);
  struct tm tm;
  if (!localtime_r(&when, &tm))
    return "";
  std::string buf(64 + format.size() * 4, '\0');
  buf.resize(strftime(buf.data(), buf.size(), format.c_str(), &tm));
  return buf;
}

// Text of one value of `type` stored at `data` (which holds at least
// type.size bytes). `indent` is the indent of stack frames.
// symbolic(): the kernel's name for the number, from the table the value
// carries in its top byte (runtime/symbols.h); the number if none applies.
// buf(): printable ASCII as it is, every other byte as \xNN (bpftrace's %r).
std::string buffer_text(const Type &type, const uint8_t *data) {
  uint64_t length =
      std::min<uint64_t>(load_u64(data), type.size - kBufferHeader);
  std::string out;
  for (uint64_t i = 0; i < length; ++i) {
    uint8_t byte = data[kBufferHeader + i];
    if (byte >= 32 && byte <= 126)
      out += static_cast<char>(byte);
    else
      out += fmt::format("\\x{:02x}", byte);
  }
  return out;
}

std::string symbolic_text(const Type &type, const uint8_t *data) {
  uint64_t encoded = type.symbolic_word(load_u64(data));
  if (!type.symbols)
    return std::to_string(encoded & kSymbolValueMask);
  return type.symbols->render(encoded);
}

std::string value_text(const Type &type, const uint8_t *data,
                       int indent = kValueStackIndent) {
  switch (type.kind) {
  case TypeKind::None:
    return "";
  case TypeKind::Integer:
    return integer_text(type, data);
  case TypeKind::String:
    return load_string(data, type.size);
  case TypeKind::Tuple: {
    std::string out = "(";
    for (size_t i = 0; i < type.fields.size(); ++i) {
      if (i)
        out += ", ";
      out += value_text(type.fields[i], data + type.offsets[i], indent);
    }
    return out + ")";
  }
  case TypeKind::Inet:
    return inet_text(type, data);
  case TypeKind::Pointer:
    return fmt::format("0x{:x}", load_u64(data));
  case TypeKind::Ksym:
    return ksym_text(data);
  case TypeKind::Usym:
    return usym_text(data);
  case TypeKind::KStack:
  case TypeKind::UStack:
    return stack_text(type, data, indent);
  case TypeKind::Username:
    return username_text(data);
  case TypeKind::Timestamp:
    return timestamp_text(type, data);
  case TypeKind::Symbolic:
    return symbolic_text(type, data);
  case TypeKind::Buffer:
    return buffer_text(type, data);
  default:
    return "";
  }
}

std::string json_escape(const std::string &text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c <= 0x1f)
        out += fmt::format("\\u{:04x}", c);
      else
        out += static_cast<char>(c);
    }
  }
  return out;
}

bool is_quoted_in_json(const Type &type) {
  return type.kind != TypeKind::Integer && type.kind != TypeKind::Tuple &&
         type.kind != TypeKind::None;
}

std::string value_json(const Type &type, const uint8_t *data) {
  if (type.is_tuple()) {
    std::string out = "[";
    for (size_t i = 0; i < type.fields.size(); ++i) {
      if (i)
        out += ",";
      out += value_json(type.fields[i], data + type.offsets[i]);
    }
    return out + "]";
  }
  std::string text = value_text(type, data);
  if (is_quoted_in_json(type))
    return "\"" + json_escape(text) + "\"";
  return text;
}

// ---------------------------------------------------------------------------
// printf helpers

// snprintf of a single conversion with one argument. Like bpftrace, the
// result is taken as a C string: a NUL produced by %c ends it.
template <typename T> std::string snprintf_one(const std::string &spec, T v) {
  char small[128];
  int n = snprintf(small, sizeof(small), spec.c_str(), v);
  if (n < 0)
    return "";
  if (static_cast<size_t>(n) < sizeof(small))
    return std::string(small, strnlen(small, n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  snprintf(big.data(), big.size(), spec.c_str(), v);
  big.resize(strnlen(big.data(), n));
  return big;
}

} // namespace

// ---------------------------------------------------------------------------
// printf

PrintfFormatter::PrintfFormatter(const PrintfDesc &desc)
    : args_(fields_of(desc.args)), action_(desc.action) {
  const std::string &f = desc.format;
  std::string literal;
  size_t next_arg = 0;
  size_t i = 0;
  while (i < f.size()) {
    if (f[i] != '%') {
      literal += f[i++];
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    // %[flags][width][.precision][length]conversion
    size_t j = i + 1;
    std::string spec = "%";
    while (j < f.size() && f[j] != '\0' && strchr("-+ #0", f[j]))
      spec += f[j++];
    while (j < f.size() && isdigit(static_cast<unsigned char>(f[j])))
      spec += f[j++];
    if (j < f.size() && f[j] == '.') {
      spec += f[j++];
      while (j < f.size() && isdigit(static_cast<unsigned char>(f[j])))
        spec += f[j++];
    }
    Length length = Length::None;
    std::string length_text;
    auto starts = [&](const char *s) {
      return f.compare(j, strlen(s), s) == 0;
    };
    if (starts("hh"))
      length = Length::HH, length_text = "hh";
    else if (starts("h"))
      length = Length::H, length_text = "h";
    else if (starts("ll"))
      length = Length::LL, length_text = "ll";
    else if (starts("l"))
      length = Length::L, length_text = "l";
    else if (starts("j"))
      length = Length::J, length_text = "j";
    else if (starts("z"))
      length = Length::Z, length_text = "z";
    else if (starts("t"))
      length = Length::T, length_text = "t";
    j += length_text.size();
    char conversion = j < f.size() ? f[j] : '\0';
    if (conversion == '\0' || !strchr("diuxXoscpr", conversion)) {
      // Not a conversion we know: print the text as written.
      literal += f.substr(i, j - i);
      i = j;
      continue;
    }
    Piece piece;
    piece.literal = std::move(literal);
    literal.clear();
    piece.conversion = conversion;
    piece.length = length;
    // %c, %s and %p take int, char * and void *: a length modifier there
    // would change the C type snprintf reads, so it is dropped.
    bool integer = strchr("diuxXo", conversion) != nullptr;
    // %r (a buf()) is its text, printed as a %s.
    piece.spec = spec + (integer ? length_text : "") +
                 (conversion == 'r' ? 's' : conversion);
    piece.arg = next_arg++;
    pieces_.push_back(std::move(piece));
    i = j + 1;
  }
  Piece tail;
  tail.literal = std::move(literal);
  pieces_.push_back(std::move(tail));
}

std::string PrintfFormatter::format(const uint8_t *payload, size_t len) const {
  std::string out;
  for (const auto &piece : pieces_) {
    out += piece.literal;
    if (!piece.conversion)
      continue;
    if (piece.arg >= args_.size() ||
        args_[piece.arg].second + args_[piece.arg].first.size > len) {
      out += piece.spec; // no argument: keep the conversion visible
      continue;
    }
    const Type &type = args_[piece.arg].first;
    const uint8_t *data = payload + args_[piece.arg].second;
    // Integers, and the kinds stored as one (addresses, ids).
    bool numeric = !type.is_string() && !type.is_tuple() && type.size >= 1 &&
                   type.size <= 8;
    uint64_t bits = numeric ? load_integer(type, data) : 0;
    switch (piece.conversion) {
    case 'r': // buf(): snprintf sees the text, as for %s
    case 's': {
      std::string text = type.is_string() ? load_string(data, type.size)
                                          : value_text(type, data);
      out += snprintf_one(piece.spec, text.c_str());
      break;
    }
    case 'c':
      out += snprintf_one(piece.spec, static_cast<int>(bits));
      break;
    case 'p':
      out += snprintf_one(
          piece.spec, reinterpret_cast<void *>(static_cast<uintptr_t>(bits)));
      break;
    case 'd':
    case 'i':
      switch (piece.length) {
      case Length::None:
        out += snprintf_one(piece.spec, static_cast<int>(bits));
        break;
      case Length::HH:
        out += snprintf_one(piece.spec,
                            static_cast<int>(static_cast<signed char>(bits)));
        break;
      case Length::H:
        out += snprintf_one(piece.spec,
                            static_cast<int>(static_cast<short>(bits)));
        break;
      case Length::L:
        out += snprintf_one(piece.spec, static_cast<long>(bits));
        break;
      case Length::LL:
        out += snprintf_one(piece.spec, static_cast<long long>(bits));
        break;
      case Length::J:
        out += snprintf_one(piece.spec, static_cast<intmax_t>(bits));
        break;
      case Length::Z:
        out += snprintf_one(piece.spec, static_cast<ssize_t>(bits));
        break;
      case Length::T:
        out += snprintf_one(piece.spec, static_cast<ptrdiff_t>(bits));
        break;
      }
      break;
    default: // u x X o
      switch (piece.length) {
      case Length::None:
        out += snprintf_one(piece.spec, static_cast<unsigned>(bits));
        break;
      case Length::HH:
        out += snprintf_one(piece.spec, static_cast<unsigned>(
                                            static_cast<unsigned char>(bits)));
        break;
      case Length::H:
        out += snprintf_one(piece.spec, static_cast<unsigned>(
                                            static_cast<unsigned short>(bits)));
        break;
      case Length::L:
        out += snprintf_one(piece.spec, static_cast<unsigned long>(bits));
        break;
      case Length::LL:
        out += snprintf_one(piece.spec, static_cast<unsigned long long>(bits));
        break;
      case Length::J:
        out += snprintf_one(piece.spec, static_cast<uintmax_t>(bits));
        break;
      case Length::Z:
      case Length::T:
        out += snprintf_one(piece.spec, static_cast<size_t>(bits));
        break;
      }
      break;
    }
  }
  if (action_ == PrintfAction::Cat)
    return file_contents(out);
  return out;
}

std::string PrintfFormatter::file_contents(const std::string &path) {
  // bpftrace's max_cat_bytes: cat() is for small /proc and /sys files.
  constexpr size_t kMaxCatBytes = 10240;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "ERROR: failed to open file '" << path
              << "': " << strerror(errno) << std::endl;
    return "";
  }
  std::string text(kMaxCatBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

void set_stack_reader(StackReader reader) {
  stack_reader() = std::move(reader);
}

std::string format_printf(const PrintfDesc &desc, const uint8_t *payload,
                          size_t len) {
  return PrintfFormatter(desc).format(payload, len);
}

std::string format_value(const Type &type, const uint8_t *data, size_t len) {
  if (len < type.size)
    return "";
  return value_text(type, data);
}

std::string format_time(const std::string &format, time_t when) {
  const std::string &f = format.empty() ? std::string("%H:%M:%S\n") : format;
  struct tm tm;
  if (!localtime_r(&when, &tm))
    return "";
  std::string buf(64 + f.size() * 4, '\0');
  size_t n = strftime(buf.data(), buf.size(), f.c_str(), &tm);
  buf.resize(n);
  return buf;
}

// ---------------------------------------------------------------------------
// Per-CPU merge

std::vector<uint8_t> merge_percpu(const MapDesc &map, const uint8_t *values,
                                  size_t ncpus) {
  uint32_t size = map.bpf_value_size();
  size_t stride = (size + 7) / 8 * 8;
  std::vector<uint8_t> merged(size, 0);
  if (ncpus == 0)
    return merged;
  switch (map.agg) {
  case AggKind::None: {
    // A per-CPU variable (e.g. @last[cpu] = ...) is written on one CPU:
    // show the first copy that was written, else CPU 0's zeros.
    for (size_t cpu = 0; cpu < ncpus; ++cpu) {
      const uint8_t *copy = values + cpu * stride;
      if (std::any_of(copy, copy + size, [](uint8_t b) { return b != 0; })) {
        memcpy(merged.data(), copy, size);
        break;
      }
    }
    break;
  }
  case AggKind::Count:
  case AggKind::Sum:
  case AggKind::Hist:
  case AggKind::LHist: {
    uint64_t sum = 0; // two's complement: also right for signed sums
    for (size_t cpu = 0; cpu < ncpus; ++cpu)
      sum += load_u64(values + cpu * stride);
    store_u64(merged.data(), sum);
    break;
  }
  case AggKind::Avg:
  case AggKind::Stats: {
    uint64_t sum = 0, count = 0;
    for (size_t cpu = 0; cpu < ncpus; ++cpu) {
      sum += load_u64(values + cpu * stride);
      count += load_u64(values + cpu * stride + 8);
    }
    store_u64(merged.data(), sum);
    store_u64(merged.data() + 8, count);
    break;
  }
  case AggKind::Min:
  case AggKind::Max: {
    bool is_unsigned = map.value.is_integer() && !map.value.is_signed;
    bool set = false;
    uint64_t best = 0;
    for (size_t cpu = 0; cpu < ncpus; ++cpu) {
      const uint8_t *v = values + cpu * stride;
      if (!load_u64(v + 8))
        continue;
      uint64_t x = load_u64(v);
      bool better;
      if (!set)
        better = true;
      else if (is_unsigned)
        better = map.agg == AggKind::Min ? x < best : x > best;
      else
        better = map.agg == AggKind::Min
                     ? static_cast<int64_t>(x) < static_cast<int64_t>(best)
                     : static_cast<int64_t>(x) > static_cast<int64_t>(best);
      if (better)
        best = x;
      set = true;
    }
    store_u64(merged.data(), best);
    store_u64(merged.data() + 8, set ? 1 : 0);
    break;
  }
  }
  return merged;
}

// ---------------------------------------------------------------------------
// Maps

namespace {

// One printed line (or histogram) of a map: a user key and what belongs
// to it.
struct MapRow {
  std::vector<uint8_t> key;
  std::vector<uint8_t> value;    // non-histogram maps
  std::vector<uint64_t> buckets; // hist/lhist
};

bool is_histogram(const MapDesc &map) {
  return map.agg == AggKind::Hist || map.agg == AggKind::LHist;
}

uint32_t user_key_size(const MapDesc &map) {
  return map.key.is_none() ? 0 : map.key.size;
}

size_t bucket_count(const MapDesc &map) {
  if (map.agg == AggKind::Hist)
    return 65; // < 0, == 0, then [2^k, 2^(k+1)) for k = 0..62
  if (map.lhist_step <= 0 || map.lhist_max <= map.lhist_min)
    return 2;
  return static_cast<size_t>((map.lhist_max - map.lhist_min) / map.lhist_step) +
         2;
}

bool value_is_unsigned(const MapDesc &map) {
  return map.value.is_integer() && !map.value.is_signed;
}

int64_t average(const MapRow &row) {
  int64_t sum = load_i64(row.value.data());
  int64_t count = load_i64(row.value.data() + 8);
  return count ? sum / count : 0;
}

// Groups BPF entries into rows: histogram buckets are gathered under their
// user key.
std::vector<MapRow> make_rows(const MapDesc &map,
                              std::vector<MapEntry> entries) {
  std::vector<MapRow> rows;
  bool array = map.storage == MapStorage::Array ||
               map.storage == MapStorage::PercpuArray;
  if (!is_histogram(map)) {
    uint32_t key_size = user_key_size(map);
    for (auto &entry : entries) {
      if (entry.value.size() < map.bpf_value_size() ||
          entry.key.size() < key_size)
        continue;
      // Every slot of an array map exists: print only those written to.
      if (array && std::all_of(entry.value.begin(), entry.value.end(),
                               [](uint8_t b) { return b == 0; }))
        continue;
      entry.key.resize(key_size); // a scalar map's dummy key is not printed
      rows.push_back({std::move(entry.key), std::move(entry.value), {}});
    }
    return rows;
  }
  uint32_t key_size = user_key_size(map);
  size_t nbuckets = bucket_count(map);
  std::map<std::vector<uint8_t>, std::vector<uint64_t>> by_key;
  // A key-less histogram in an array: the u32 key is the bucket, and the
  // histogram exists once a bucket holds something (as a hash's would).
  uint32_t bucket_size = array ? 4 : 8;
  for (const auto &entry : entries) {
    if (entry.key.size() < key_size + bucket_size || entry.value.size() < 8)
      continue;
    uint64_t count = load_u64(entry.value.data());
    if (array && count == 0)
      continue;
    std::vector<uint8_t> key(entry.key.begin(), entry.key.begin() + key_size);
    uint64_t bucket = 0;
    memcpy(&bucket, entry.key.data() + key_size, bucket_size);
    auto &buckets = by_key[key];
    buckets.resize(nbuckets, 0);
    if (bucket < nbuckets)
      buckets[bucket] += count;
  }
  for (auto &[key, buckets] : by_key)
    rows.push_back({key, {}, std::move(buckets)});
  return rows;
}

// bpftrace orders keys field by field, integers as unsigned numbers and
// strings with strncmp; other kinds compare by their bytes.
bool key_less(const Type &key_type, const std::vector<uint8_t> &a,
              const std::vector<uint8_t> &b) {
  for (const auto &[type, offset] : fields_of(key_type)) {
    if (offset + type.size > a.size() || offset + type.size > b.size())
      break;
    const uint8_t *pa = a.data() + offset, *pb = b.data() + offset;
    if (type.kind == TypeKind::Symbolic) {
      // By table, then by number: a table's names list in its order.
      uint64_t va = type.symbolic_word(load_u64(pa));
      uint64_t vb = type.symbolic_word(load_u64(pb));
      if (va != vb)
        return va < vb;
    } else if (type.is_integer()) {
      uint32_t size = std::min(type.size, 8u);
      uint64_t va = load_bits(pa, size), vb = load_bits(pb, size);
      if (va != vb)
        return va < vb;
    } else if (type.is_string()) {
      int c = strncmp(reinterpret_cast<const char *>(pa),
                      reinterpret_cast<const char *>(pb), type.size);
      if (c)
        return c < 0;
    } else {
      int c = memcmp(pa, pb, type.size);
      if (c)
        return c < 0;
    }
  }
  return false;
}

// The number a row is sorted by, as a comparable pair (signed or not).
struct SortValue {
  bool is_signed = false;
  uint64_t bits = 0;
  bool operator<(const SortValue &o) const {
    if (is_signed)
      return static_cast<int64_t>(bits) < static_cast<int64_t>(o.bits);
    return bits < o.bits;
  }
};

// Whether bpftrace sorts this map by value at all.
bool sorted_by_value(const MapDesc &map) {
  return map.agg != AggKind::None || map.value.is_integer();
}

SortValue sort_value(const MapDesc &map, const MapRow &row) {
  switch (map.agg) {
  case AggKind::None:
    return {map.value.is_signed || map.value.is_pointer,
            load_integer(map.value, row.value.data())};
  case AggKind::Count:
    return {false, load_u64(row.value.data())};
  case AggKind::Sum:
  case AggKind::Min:
  case AggKind::Max:
    return {!value_is_unsigned(map), load_u64(row.value.data())};
  case AggKind::Avg:
  case AggKind::Stats:
    return {true, static_cast<uint64_t>(average(row))};
  case AggKind::Hist:
  case AggKind::LHist: {
    uint64_t total = 0;
    for (uint64_t n : row.buckets)
      total += n;
    return {false, total};
  }
  }
  return {};
}

void sort_rows(const MapDesc &map, std::vector<MapRow> &rows) {
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const MapRow &a, const MapRow &b) {
                     return key_less(map.key, a.key, b.key);
                   });
  if (!sorted_by_value(map))
    return;
  std::vector<std::pair<SortValue, size_t>> order;
  for (size_t i = 0; i < rows.size(); ++i)
    order.emplace_back(sort_value(map, rows[i]), i);
  std::stable_sort(
      order.begin(), order.end(),
      [](const auto &a, const auto &b) { return a.first < b.first; });
  std::vector<MapRow> sorted;
  sorted.reserve(rows.size());
  for (const auto &[value, index] : order)
    sorted.push_back(std::move(rows[index]));
  rows = std::move(sorted);
}

// print(@m, top): the `top` largest, still in ascending order. bpftrace
// ignores `top` for stats() maps.
void apply_top(const MapDesc &map, std::vector<MapRow> &rows, uint64_t top) {
  if (!top || map.agg == AggKind::Stats || rows.size() <= top)
    return;
  rows.erase(rows.begin(), rows.end() - static_cast<ptrdiff_t>(top));
}

// One field of a key. bpftrace prints integer keys as signed 64-bit
// numbers whatever their type (@[(uint64)-7] shows as @[-7]), in text and
// JSON alike, and addresses in hex.
std::string key_field_text(const Type &type, const uint8_t *data,
                           int stack_indent) {
  if (type.is_integer() && type.is_pointer)
    return fmt::format("0x{:x}", load_u64(data));
  if (type.is_integer())
    return std::to_string(static_cast<int64_t>(load_integer(type, data)));
  return value_text(type, data, stack_indent);
}

std::string key_text(const MapDesc &map, const std::vector<uint8_t> &key) {
  if (map.key.is_none())
    return map.name;
  std::string out = map.name + "[";
  bool first = true;
  for (const auto &[type, offset] : fields_of(map.key)) {
    if (!first)
      out += ", ";
    first = false;
    if (offset + type.size > key.size())
      continue;
    out += key_field_text(type, key.data() + offset, kKeyStackIndent);
  }
  return out + "]";
}

// The key as JSON object member name: fields joined with ",", quoted.
std::string key_json(const MapDesc &map, const std::vector<uint8_t> &key) {
  std::string joined;
  bool first = true;
  for (const auto &[type, offset] : fields_of(map.key)) {
    if (!first)
      joined += ",";
    first = false;
    if (offset + type.size > key.size())
      continue;
    joined += key_field_text(type, key.data() + offset, kValueStackIndent);
  }
  return "\"" + json_escape(joined) + "\"";
}

// A plain or aggregated (non-histogram) value, divided by `div`.
std::string scalar_text(const MapDesc &map, const MapRow &row, uint64_t div) {
  const uint8_t *v = row.value.data();
  switch (map.agg) {
  case AggKind::None:
    if (map.value.is_integer()) {
      uint64_t bits = load_integer(map.value, v);
      if (map.value.is_signed || map.value.is_pointer)
        return std::to_string(static_cast<int64_t>(bits) /
                              static_cast<int64_t>(div));
      return std::to_string(bits / div);
    }
    return value_text(map.value, v);
  case AggKind::Count:
    return std::to_string(load_u64(v) / div);
  case AggKind::Sum:
  case AggKind::Min:
  case AggKind::Max:
    if (value_is_unsigned(map))
      return std::to_string(load_u64(v) / div);
    return std::to_string(load_i64(v) / static_cast<int64_t>(div));
  case AggKind::Avg:
    return std::to_string(average(row) / static_cast<int64_t>(div));
  default:
    return "";
  }
}

std::string lhist_label(int64_t n) {
  constexpr int64_t kilo = 1024, mega = 1024 * 1024;
  if (n == 0)
    return "0";
  if (n % mega == 0)
    return std::to_string(n / mega) + "M";
  if (n % kilo == 0)
    return std::to_string(n / kilo) + "K";
  return std::to_string(n);
}

std::string lhist_bucket_label(const MapDesc &map, size_t index,
                               size_t nbuckets) {
  if (index == 0)
    return "(..., " + lhist_label(map.lhist_min) + ")";
  if (index == nbuckets - 1)
    return "[" + lhist_label(map.lhist_max) + ", ...)";
  int64_t low =
      static_cast<int64_t>(index - 1) * map.lhist_step + map.lhist_min;
  return "[" + lhist_label(low) + ", " + lhist_label(low + map.lhist_step) +
         ")";
}

// First and last non-empty bucket, or {1, 0} when all are empty.
std::pair<size_t, size_t> used_buckets(const std::vector<uint64_t> &buckets) {
  size_t first = 1, last = 0;
  bool any = false;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!buckets[i])
      continue;
    if (!any)
      first = i;
    last = i;
    any = true;
  }
  return {first, last};
}

// The rows of one histogram, each ending in a newline: label left-aligned
// in 16 columns, count right-aligned in 8, and a 52-wide bar scaled to the
// largest bucket (computed in float like bpftrace; `div` divides only the
// printed count).
std::string histogram_text(const MapDesc &map,
                           const std::vector<uint64_t> &buckets, uint64_t div) {
  auto [first, last] = used_buckets(buckets);
  uint64_t max = 0;
  for (uint64_t n : buckets)
    max = std::max(max, n);
  std::string out;
  for (size_t i = first; i <= last && i < buckets.size(); ++i) {
    std::string label = map.agg == AggKind::Hist
                            ? hist_bucket_label(i)
                            : lhist_bucket_label(map, i, buckets.size());
    uint64_t count = map.agg == AggKind::Hist ? buckets[i] / div : buckets[i];
    int width = static_cast<int>(static_cast<float>(buckets[i]) /
                                 static_cast<float>(max) * 52);
    out += fmt::format("{:<16}{:>8} |{:<52}|\n", label, count,
                       std::string(width, '@'));
  }
  return out;
}

std::string histogram_json(const MapDesc &map,
                           const std::vector<uint64_t> &buckets, uint64_t div) {
  auto [first, last] = used_buckets(buckets);
  std::string out = "[";
  size_t n = buckets.size();
  for (size_t i = first; i <= last && i < n; ++i) {
    if (i > first)
      out += ", ";
    out += "{";
    if (map.agg == AggKind::Hist) {
      if (i == 0)
        out += "\"max\": -1, ";
      else if (i == 1)
        out += "\"min\": 0, \"max\": 0, ";
      else
        out += fmt::format("\"min\": {}, \"max\": {}, ", uint64_t{1} << (i - 2),
                           (uint64_t{1} << (i - 1)) - 1);
      out += fmt::format("\"count\": {}", buckets[i] / div);
    } else {
      if (i == 0) {
        out += fmt::format("\"max\": {}, ", map.lhist_min - 1);
      } else if (i == n - 1) {
        out += fmt::format("\"min\": {}, ", map.lhist_max);
      } else {
        int64_t low =
            static_cast<int64_t>(i - 1) * map.lhist_step + map.lhist_min;
        out += fmt::format("\"min\": {}, \"max\": {}, ", low,
                           low + map.lhist_step - 1);
      }
      out += fmt::format("\"count\": {}", buckets[i]);
    }
    out += "}";
  }
  return out + "]";
}

std::vector<MapRow> prepare_rows(const MapDesc &map,
                                 std::vector<MapEntry> entries,
                                 MapPrintArgs args) {
  std::vector<MapRow> rows = make_rows(map, std::move(entries));
  // bpftrace 0.17 keeps a key-less count() in a per-CPU array, whose one
  // slot always exists: never counted, cleared or deleted, it prints 0.
  if (rows.empty() && map.agg == AggKind::Count && map.key.is_none())
    rows.push_back({{}, std::vector<uint8_t>(map.bpf_value_size(), 0), {}});
  sort_rows(map, rows);
  apply_top(map, rows, args.top);
  return rows;
}

// Values whose text ends in a newline of its own are not separated
// (bpftrace's map_elem_delim).
bool joined_without_newline(const MapDesc &map) {
  if (map.agg != AggKind::None)
    return false;
  switch (map.value.kind) {
  case TypeKind::KStack:
  case TypeKind::UStack:
  case TypeKind::Ksym:
  case TypeKind::Usym:
  case TypeKind::Inet:
    return true;
  default:
    return false;
  }
}

} // namespace

std::string hist_bucket_label(size_t index) {
  if (index == 0)
    return "(..., 0)";
  if (index == 1)
    return "[0]";
  if (index == 2)
    return "[1]";
  if (index > 64) // past [4E, 8E): no such bucket for 64-bit values
    return "";
  auto power = [](size_t p) {
    static const char suffixes[] = {'\0', 'K', 'M', 'G', 'T', 'P', 'E'};
    size_t s = std::min<size_t>(p / 10, 6);
    std::string text = std::to_string(uint64_t{1} << (p - s * 10));
    if (suffixes[s])
      text += suffixes[s];
    return text;
  };
  return "[" + power(index - 2) + ", " + power(index - 1) + ")";
}

std::string format_map(const MapDesc &map, std::vector<MapEntry> entries,
                       MapPrintArgs args) {
  if (args.div == 0)
    args.div = 1;
  std::vector<MapRow> rows = prepare_rows(map, std::move(entries), args);
  std::vector<std::string> elems;
  for (const auto &row : rows) {
    std::string text = key_text(map, row.key) + ": ";
    if (is_histogram(map))
      text += "\n" + histogram_text(map, row.buckets, args.div);
    else if (map.agg == AggKind::Stats)
      text += fmt::format("count {}, average {}, total {}",
                          load_i64(row.value.data() + 8), average(row),
                          load_i64(row.value.data()));
    else
      text += scalar_text(map, row, args.div);
    elems.push_back(std::move(text));
  }
  std::string delim = joined_without_newline(map) ? "" : "\n";
  std::string out;
  for (size_t i = 0; i < elems.size(); ++i)
    out += (i ? delim : "") + elems[i];
  out += "\n";
  if (map.agg == AggKind::Avg || map.agg == AggKind::Stats)
    out += "\n";
  return out;
}

// ---------------------------------------------------------------------------
// Output sinks

namespace {

class TextOutput : public Output {
public:
  explicit TextOutput(std::ostream &out) : out_(out) {}

  void attached_probes(size_t count) override {
    out_ << "Attaching " << count << (count == 1 ? " probe..." : " probes...")
         << "\n";
  }
  void printf_result(const std::string &text) override { out_ << text; }
  void time_result(const std::string &text) override { out_ << text; }
  void value(const Type &type, const uint8_t *data, size_t len) override {
    out_ << format_value(type, data, len) << "\n";
  }
  void map(const MapDesc &map, std::vector<MapEntry> entries,
           MapPrintArgs args) override {
    out_ << format_map(map, std::move(entries), args);
  }
  void end_of_run() override { out_ << "\n\n"; }
  void lost_events(uint64_t count) override {
    out_ << "Lost " << count << " events\n";
  }
  void diagnostic(const Diagnostic &) override {}
  void flush() override { out_.flush(); }

private:
  std::ostream &out_;
};

// bpftrace's -f json: one JSON object per line.
class JsonOutput : public Output {
public:
  explicit JsonOutput(std::ostream &out) : out_(out) {}

  void attached_probes(size_t count) override {
    out_ << "{\"type\": \"attached_probes\", \"data\": {\"probes\": " << count
         << "}}\n";
  }
  void printf_result(const std::string &text) override {
    message("printf", text);
  }
  void time_result(const std::string &text) override { message("time", text); }
  void value(const Type &type, const uint8_t *data, size_t len) override {
    out_ << "{\"type\": \"value\", \"data\": "
         << (len >= type.size ? value_json(type, data) : "null") << "}\n";
  }
  void map(const MapDesc &map, std::vector<MapEntry> entries,
           MapPrintArgs args) override {
    if (args.div == 0)
      args.div = 1;
    std::vector<MapRow> rows = prepare_rows(map, std::move(entries), args);
    if (rows.empty())
      return;
    const char *type = "map";
    if (is_histogram(map))
      type = "hist";
    else if (map.agg == AggKind::Avg || map.agg == AggKind::Stats)
      type = "stats";
    bool keyed = !map.key.is_none();
    out_ << "{\"type\": \"" << type << "\", \"data\": {\""
         << json_escape(map.name) << "\": " << (keyed ? "{" : "");
    for (size_t i = 0; i < rows.size(); ++i) {
      const MapRow &row = rows[i];
      if (i)
        out_ << ", ";
      if (keyed)
        out_ << key_json(map, row.key) << ": ";
      if (is_histogram(map))
        out_ << histogram_json(map, row.buckets, args.div);
      else if (map.agg == AggKind::Stats)
        out_ << fmt::format("{{\"count\": {}, \"average\": {}, \"total\": {}}}",
                            load_i64(row.value.data() + 8), average(row),
                            load_i64(row.value.data()));
      else if (map.agg == AggKind::None && !map.value.is_integer())
        out_ << value_json(map.value, row.value.data());
      else
        out_ << scalar_text(map, row, args.div);
    }
    out_ << (keyed ? "}" : "") << "}}\n";
  }
  // bpftrace prints the two blank lines in JSON mode too.
  void end_of_run() override { out_ << "\n\n"; }
  void lost_events(uint64_t count) override {
    out_ << "{\"type\": \"lost_events\", \"data\": {\"events\": " << count
         << "}}\n";
  }
  // {"type": "error", "data": {"message": ..., "line": L, "column": C,
  //  "hints": [...]}} (line and column 0 when there is no location).
  void diagnostic(const Diagnostic &d) override {
    out_ << "{\"type\": \""
         << (d.severity == Severity::Error ? "error" : "warning")
         << "\", \"data\": {\"message\": \"" << json_escape(d.message)
         << "\", \"line\": " << d.range.begin.line
         << ", \"column\": " << d.range.begin.column << ", \"hints\": [";
    for (size_t i = 0; i < d.hints.size(); ++i)
      out_ << (i ? ", " : "") << "\"" << json_escape(d.hints[i]) << "\"";
    out_ << "]}}\n";
  }
  void flush() override { out_.flush(); }

private:
  void message(const char *type, const std::string &text) {
    out_ << "{\"type\": \"" << type << "\", \"data\": \"" << json_escape(text)
         << "\"}\n";
  }
  std::ostream &out_;
};

} // namespace

std::unique_ptr<Output> make_output(OutputFormat format, std::ostream &out) {
  if (format == OutputFormat::Json)
    return std::make_unique<JsonOutput>(out);
  return std::make_unique<TextOutput>(out);
}

} // namespace hvt
