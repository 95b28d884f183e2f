#include "program_io.h"

#include <nlohmann/json.hpp>

#include <limits>

namespace hvt {

// Adding a field to the contract means adding it here too (and bumping
// kProgramFormatVersion): these sizes catch a forgotten one at build time.
// Update the numbers once the field is serialized below. (Sizes as laid out
// by x86-64 libstdc++, the platform hvt targets.)
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(ProbeDesc) == 224, "serialize the new ProbeDesc field");
static_assert(sizeof(SkippedAttachPoint) == 112,
              "serialize the new SkippedAttachPoint field");
static_assert(sizeof(MapDesc) == 352, "serialize the new MapDesc field");
static_assert(sizeof(PrintfDesc) == 152, "serialize the new PrintfDesc field");
static_assert(sizeof(StackMapDesc) == 40,
              "serialize the new StackMapDesc field");
static_assert(sizeof(Type) == 96, "serialize the new Type field");
static_assert(sizeof(SymbolTable) == 96, "serialize the new SymbolTable field");
static_assert(sizeof(CompiledProgram) == 312,
              "serialize the new CompiledProgram field");
#endif

namespace {

using nlohmann::json;

// Raised for values that parse as JSON but are not a valid program.
struct Invalid {
  std::string what;
};

template <typename Enum> json enum_value(Enum e) {
  return static_cast<uint64_t>(e);
}

template <typename Enum> Enum to_enum(const json &j, Enum last) {
  uint64_t v = j.get<uint64_t>();
  if (v > static_cast<uint64_t>(last))
    throw Invalid{"enum value " + std::to_string(v) + " out of range"};
  return static_cast<Enum>(v);
}

// --- source ranges ----------------------------------------------------------

json range_json(const SourceRange &r) {
  return json::array({r.begin.line, r.begin.column, r.end.line, r.end.column});
}

SourceRange range_from(const json &j) {
  SourceRange r;
  if (j.size() != 4)
    throw Invalid{"bad source range"};
  r.begin.line = j.at(0).get<uint32_t>();
  r.begin.column = j.at(1).get<uint32_t>();
  r.end.line = j.at(2).get<uint32_t>();
  r.end.column = j.at(3).get<uint32_t>();
  return r;
}

// --- value types
// --------------------------------------------------------------

json type_json(const Type &t) {
  json j = {
      {"kind", enum_value(t.kind)}, {"size", t.size}, {"signed", t.is_signed}};
  if (t.is_pointer)
    j["pointer"] = true;
  if (!t.fields.empty()) {
    json fields = json::array();
    for (const auto &f : t.fields)
      fields.push_back(type_json(f));
    j["fields"] = std::move(fields);
    j["offsets"] = t.offsets;
  }
  if (t.symbol_table) {
    j["symbol_table"] = t.symbol_table;
    j["symbol_mask"] = t.symbol_mask;
  }
  return j;
}

// Symbolic types share the program's symbol tables (see symbols.h).
Type type_from(const json &j,
               const std::shared_ptr<const SymbolTables> &symbols,
               int depth = 0) {
  if (depth > 64)
    throw Invalid{"types nested too deeply"};
  Type t;
  t.kind = to_enum(j.at("kind"), TypeKind::Buffer);
  t.size = j.at("size").get<uint32_t>();
  t.is_signed = j.at("signed").get<bool>();
  t.is_pointer = j.value("pointer", false);
  if (j.contains("fields")) {
    for (const auto &f : j.at("fields"))
      t.fields.push_back(type_from(f, symbols, depth + 1));
    t.offsets = j.at("offsets").get<std::vector<uint32_t>>();
    if (t.offsets.size() != t.fields.size())
      throw Invalid{"tuple offsets do not match its fields"};
  }
  if (t.kind == TypeKind::Symbolic) {
    if (!symbols)
      throw Invalid{"symbolic value without symbol tables"};
    t.symbols = symbols;
    if (j.contains("symbol_table")) {
      t.symbol_table = j.at("symbol_table").get<uint32_t>();
      t.symbol_mask = j.at("symbol_mask").get<uint64_t>();
      if (t.symbol_table == 0 || t.symbol_table > symbols->tables.size())
        throw Invalid{"symbolic value of an unknown table"};
    }
  }
  return t;
}

// --- symbol tables
// --------------------------------------------------------------

json tables_json(const SymbolTables &tables) {
  json out = json::array();
  for (const auto &t : tables.tables) {
    json entries = json::array();
    for (const auto &[value, name] : t.entries)
      entries.push_back(json::array({value, name}));
    out.push_back({{"kind", enum_value(t.kind)},
                   {"signed", t.is_signed},
                   {"separator", t.separator},
                   {"constant", t.constant},
                   {"entries", std::move(entries)}});
  }
  return out;
}

std::shared_ptr<const SymbolTables> tables_from(const json &j) {
  auto tables = std::make_shared<SymbolTables>();
  if (j.size() > kMaxSymbolTables)
    throw Invalid{"too many symbol tables"};
  for (const auto &t : j) {
    SymbolTable table;
    table.kind = to_enum(t.at("kind"), SymbolTable::Kind::Constant);
    table.is_signed = t.at("signed").get<bool>();
    table.separator = t.at("separator").get<std::string>();
    table.constant = t.at("constant").get<std::string>();
    for (const auto &e : t.at("entries")) {
      if (e.size() != 2)
        throw Invalid{"bad symbol table entry"};
      table.entries.emplace_back(e.at(0).get<uint64_t>(),
                                 e.at(1).get<std::string>());
    }
    tables->tables.push_back(std::move(table));
  }
  return tables;
}

// --- the contract
// -------------------------------------------------------------

json probe_json(const ProbeDesc &p) {
  return {{"kind", enum_value(p.kind)},
          {"program_name", p.program_name},
          {"display", p.display},
          {"target", p.target},
          {"function", p.function},
          {"offset", p.offset},
          {"period", p.period},
          {"frequency", p.frequency},
          {"range", range_json(p.range)},
          {"probe_index", p.probe_index},
          {"fallback", p.fallback},
          {"attach_cookie", p.attach_cookie},
          {"constant_records", p.constant_records}};
}

ProbeDesc probe_from(const json &j) {
  ProbeDesc p;
  p.kind = to_enum(j.at("kind"), ProbeKind::Hardware);
  p.program_name = j.at("program_name").get<std::string>();
  p.display = j.at("display").get<std::string>();
  p.target = j.at("target").get<std::string>();
  p.function = j.at("function").get<std::string>();
  p.offset = j.at("offset").get<uint64_t>();
  p.period = j.at("period").get<uint64_t>();
  p.frequency = j.at("frequency").get<uint64_t>();
  p.range = range_from(j.at("range"));
  p.probe_index = j.at("probe_index").get<size_t>();
  p.fallback = j.at("fallback").get<bool>();
  p.attach_cookie = j.at("attach_cookie").get<uint64_t>();
  p.constant_records = j.at("constant_records").get<std::vector<uint8_t>>();
  return p;
}

json skipped_json(const SkippedAttachPoint &s) {
  return {{"display", s.display},
          {"range", range_json(s.range)},
          {"probe_index", s.probe_index},
          {"reason", s.reason},
          {"hints", s.hints}};
}

SkippedAttachPoint skipped_from(const json &j) {
  SkippedAttachPoint s;
  s.display = j.at("display").get<std::string>();
  s.range = range_from(j.at("range"));
  s.probe_index = j.at("probe_index").get<size_t>();
  s.reason = j.at("reason").get<std::string>();
  s.hints = j.at("hints").get<std::vector<std::string>>();
  return s;
}

// --- bytes ----------------------------------------------------------------
// Initial map entries as hex: a 1,000-entry table is one string per map,
// which parses much faster than an array of numbers.

std::string hex_json(const std::vector<uint8_t> &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string text(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    text[2 * i] = digits[bytes[i] >> 4];
    text[2 * i + 1] = digits[bytes[i] & 15];
  }
  return text;
}

std::vector<uint8_t> bytes_from(const json &j) {
  const std::string &text = j.get_ref<const std::string &>();
  if (text.size() % 2)
    throw Invalid{"odd number of hex digits"};
  auto digit = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    throw Invalid{"bad hex digit"};
  };
  std::vector<uint8_t> bytes(text.size() / 2);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = digit(text[2 * i]) << 4 | digit(text[2 * i + 1]);
  return bytes;
}

json map_json(const MapDesc &m) {
  return {{"name", m.name},
          {"elf_name", m.elf_name},
          {"key", type_json(m.key)},
          {"value", type_json(m.value)},
          {"agg", enum_value(m.agg)},
          {"storage", enum_value(m.storage)},
          {"max_entries", m.max_entries},
          {"lhist", json::array({m.lhist_min, m.lhist_max, m.lhist_step})},
          {"range", range_json(m.range)},
          {"initial_keys", hex_json(m.initial_keys)},
          {"initial_values", hex_json(m.initial_values)}};
}

MapDesc map_from(const json &j,
                 const std::shared_ptr<const SymbolTables> &symbols) {
  MapDesc m;
  m.name = j.at("name").get<std::string>();
  m.elf_name = j.at("elf_name").get<std::string>();
  m.key = type_from(j.at("key"), symbols);
  m.value = type_from(j.at("value"), symbols);
  m.agg = to_enum(j.at("agg"), AggKind::LHist);
  m.storage = to_enum(j.at("storage"), MapStorage::PercpuArray);
  m.max_entries = j.at("max_entries").get<uint32_t>();
  const json &lhist = j.at("lhist");
  if (lhist.size() != 3)
    throw Invalid{"bad lhist parameters"};
  m.lhist_min = lhist.at(0).get<int64_t>();
  m.lhist_max = lhist.at(1).get<int64_t>();
  m.lhist_step = lhist.at(2).get<int64_t>();
  m.range = range_from(j.at("range"));
  m.initial_keys = bytes_from(j.at("initial_keys"));
  m.initial_values = bytes_from(j.at("initial_values"));
  uint64_t key_size = m.bpf_key_size(), value_size = m.bpf_value_size();
  bool any = !m.initial_keys.empty() || !m.initial_values.empty();
  if (any && (key_size == 0 || value_size == 0 ||
              m.initial_keys.size() % key_size ||
              m.initial_values.size() % value_size ||
              m.initial_keys.size() / key_size !=
                  m.initial_values.size() / value_size))
    throw Invalid{"initial entries do not match the map's key and value "
                  "sizes"};
  return m;
}

json printf_json(const PrintfDesc &p) {
  return {{"format", p.format},
          {"args", type_json(p.args)},
          {"range", range_json(p.range)},
          {"action", enum_value(p.action)}};
}

PrintfDesc printf_from(const json &j,
                       const std::shared_ptr<const SymbolTables> &symbols) {
  PrintfDesc p;
  p.format = j.at("format").get<std::string>();
  p.args = type_from(j.at("args"), symbols);
  p.range = range_from(j.at("range"));
  p.action = to_enum(j.at("action"), PrintfAction::Cat);
  return p;
}

} // namespace

std::string program_metadata_to_json(const CompiledProgram &program) {
  json j;
  j["format_version"] = kProgramFormatVersion;
  json probes = json::array();
  for (const auto &p : program.probes)
    probes.push_back(probe_json(p));
  j["probes"] = std::move(probes);
  json maps = json::array();
  for (const auto &m : program.maps)
    maps.push_back(map_json(m));
  j["maps"] = std::move(maps);
  json printfs = json::array();
  for (const auto &p : program.printfs)
    printfs.push_back(printf_json(p));
  j["printfs"] = std::move(printfs);
  json values = json::array();
  for (const auto &t : program.print_values)
    values.push_back(type_json(t));
  j["print_values"] = std::move(values);
  j["time_formats"] = program.time_formats;
  if (program.symbol_tables)
    j["symbol_tables"] = tables_json(*program.symbol_tables);
  json skipped = json::array();
  for (const auto &s : program.skipped)
    skipped.push_back(skipped_json(s));
  j["skipped"] = std::move(skipped);
  j["ringbuf_name"] = program.ringbuf_name;
  j["lost_events_name"] = program.lost_events_name;
  j["ringbuf_size"] = program.ringbuf_size;
  json stacks = json::array();
  for (const auto &s : program.stack_maps)
    stacks.push_back({{"elf_name", s.elf_name}, {"limit", s.limit}});
  j["stack_maps"] = std::move(stacks);
  j["elapsed_map"] = program.elapsed_map;
  return j.dump();
}

bool program_metadata_from_json(std::string_view text, CompiledProgram &program,
                                std::string &error) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "metadata is not a JSON object";
    return false;
  }
  try {
    if (j.at("format_version").get<int>() != kProgramFormatVersion)
      throw Invalid{"metadata format version " + j.at("format_version").dump() +
                    ", expected " + std::to_string(kProgramFormatVersion)};
    std::shared_ptr<const SymbolTables> symbols;
    if (j.contains("symbol_tables"))
      symbols = tables_from(j.at("symbol_tables"));
    program.symbol_tables = symbols;
    program.probes.clear();
    for (const auto &p : j.at("probes"))
      program.probes.push_back(probe_from(p));
    program.maps.clear();
    for (const auto &m : j.at("maps"))
      program.maps.push_back(map_from(m, symbols));
    program.printfs.clear();
    for (const auto &p : j.at("printfs"))
      program.printfs.push_back(printf_from(p, symbols));
    program.print_values.clear();
    for (const auto &t : j.at("print_values"))
      program.print_values.push_back(type_from(t, symbols));
    program.time_formats = j.at("time_formats").get<std::vector<std::string>>();
    program.skipped.clear();
    for (const auto &s : j.at("skipped"))
      program.skipped.push_back(skipped_from(s));
    program.ringbuf_name = j.at("ringbuf_name").get<std::string>();
    program.lost_events_name = j.at("lost_events_name").get<std::string>();
    program.ringbuf_size = j.at("ringbuf_size").get<uint32_t>();
    program.stack_maps.clear();
    for (const auto &s : j.at("stack_maps"))
      program.stack_maps.push_back(
          {s.at("elf_name").get<std::string>(), s.at("limit").get<uint32_t>()});
    program.elapsed_map = j.at("elapsed_map").get<std::string>();
  } catch (const Invalid &e) {
    error = e.what;
    return false;
  } catch (const json::exception &e) {
    error = std::string("malformed metadata: ") + e.what();
    return false;
  }
  return true;
}

} // namespace hvt
