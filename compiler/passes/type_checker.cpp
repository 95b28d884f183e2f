// Pass 2: type inference and checking. Every expression gets a Type; maps and
// scratch variables get one type for the whole program (maps) or probe
// (variables). Map types may be learned from a later probe than the one that
// reads them, so the checker runs until nothing new is learned and reports
// errors only on its final round.
#include "btf_types.h"
#include "passes/macros.h"
#include "passes/semantic.h"
#include "symbolizer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

namespace hvt {

// The builtins and every function the checker knows, for did-you-mean hints
// (and for passes/macros.cpp: these names never expand as macros).
const std::vector<std::string> &builtin_names() {
  static const std::vector<std::string> names = {
      "pid",  "tid",  "uid",    "gid",    "nsecs", "elapsed", "cpu",
      "comm", "kstack", "ustack", "func", "probe", "curtask", "rand",
      "cgroup", "retval", "args", "username", "cpid", "arg0", "arg1",
      "arg2", "arg3", "arg4", "arg5", "arg6", "arg7", "arg8", "arg9"};
  return names;
}

const std::vector<std::string> &function_names() {
  static const std::vector<std::string> names = {
      "count",  "sum",    "avg",      "min",   "max",  "stats",
      "hist",   "lhist",  "printf",   "exit",  "str",  "print",
      "clear",  "zero",   "delete",   "len",   "ksym", "usym",
      "kaddr",  "time",   "strftime", "ntop",  "join", "cat",
      "kstack", "ustack", "symbolic", "bswap", "buf"};
  return names;
}

namespace {

constexpr uint32_t kCommSize = 16;
constexpr int kRounds = 3;

bool is_aggregation(const std::string &name) {
  static const std::set<std::string> names = {"count", "sum", "avg", "min",
                                              "max", "stats", "hist", "lhist"};
  return names.count(name) != 0;
}

AggKind aggregation_kind(const std::string &name) {
  if (name == "count") return AggKind::Count;
  if (name == "sum") return AggKind::Sum;
  if (name == "avg") return AggKind::Avg;
  if (name == "min") return AggKind::Min;
  if (name == "max") return AggKind::Max;
  if (name == "stats") return AggKind::Stats;
  if (name == "hist") return AggKind::Hist;
  return AggKind::LHist;
}

const char *aggregation_name(AggKind kind) {
  switch (kind) {
  case AggKind::None: return "a plain value";
  case AggKind::Count: return "count()";
  case AggKind::Sum: return "sum()";
  case AggKind::Avg: return "avg()";
  case AggKind::Min: return "min()";
  case AggKind::Max: return "max()";
  case AggKind::Stats: return "stats()";
  case AggKind::Hist: return "hist()";
  case AggKind::LHist: return "lhist()";
  }
  return "?";
}

const std::vector<std::string> &stack_mode_names() {
  static const std::vector<std::string> names = {"bpftrace", "perf", "raw"};
  return names;
}

std::optional<StackMode> stack_mode_named(const std::string &name) {
  if (name == "bpftrace")
    return StackMode::Bpftrace;
  if (name == "perf")
    return StackMode::Perf;
  if (name == "raw")
    return StackMode::Raw;
  return std::nullopt;
}

// The BPF stack is 512 bytes: longer strings would not fit beside a probe's
// other buffers (bpftrace 0.17 has the same limit).
constexpr uint64_t kMaxStringSize = 200;

// Integers stored in maps, variables and keys are widened to 64 bits, as in
// bpftrace; strings keep their size.
Type storage_type(const Type &t) {
  if (t.is_integer()) {
    Type stored = Type::integer(8, t.is_signed);
    stored.is_pointer = t.is_pointer;
    return stored;
  }
  if (t.is_tuple()) {
    std::vector<Type> fields;
    for (const auto &f : t.fields)
      fields.push_back(storage_type(f));
    return Type::tuple(std::move(fields));
  }
  return t;
}

// Merges two uses of one storage slot: same kind, strings widen to the
// larger size. Returns false when they cannot share a slot.
bool unify(Type &slot, const Type &use) {
  if (slot.is_none()) {
    slot = use;
    return true;
  }
  if (slot.kind != use.kind)
    return false;
  // Strings, and strftime() values (which carry their format), widen to
  // the larger size; the smaller is NUL-padded.
  if (slot.is_string() || slot.kind == TypeKind::Timestamp ||
      slot.kind == TypeKind::Buffer) {
    slot.size = std::max(slot.size, use.size);
    return true;
  }
  if (slot.is_tuple()) {
    if (slot.fields.size() != use.fields.size())
      return false;
    std::vector<Type> fields = slot.fields;
    for (size_t i = 0; i < fields.size(); ++i)
      if (!unify(fields[i], use.fields[i]))
        return false;
    slot = Type::tuple(std::move(fields));
    return true;
  }
  // symbolic() values named by different tables (or masks) share a slot as
  // encoded words; codegen's store_value() encodes the stored form.
  if (slot.kind == TypeKind::Symbolic) {
    if (slot.symbol_table != use.symbol_table ||
        slot.symbol_mask != use.symbol_mask)
      slot = Type::symbolic(slot.symbols);
    return true;
  }
  // Integers: first use decides the sign, as bpftrace does.
  return slot.kind != TypeKind::Integer || slot.size == use.size;
}

bool probe_allows(ProbeKind kind, const std::string &builtin) {
  if (builtin == "retval")
    return kind == ProbeKind::Kretprobe || kind == ProbeKind::Uretprobe ||
           kind == ProbeKind::Fexit;
  if (builtin == "args")
    return kind == ProbeKind::Tracepoint || kind == ProbeKind::Fentry ||
           kind == ProbeKind::Fexit;
  if (builtin.size() == 4 && builtin.rfind("arg", 0) == 0)
    return kind == ProbeKind::Kprobe || kind == ProbeKind::Uprobe ||
           kind == ProbeKind::RawTracepoint;
  if (builtin == "func")
    return kind == ProbeKind::Kprobe || kind == ProbeKind::Kretprobe ||
           kind == ProbeKind::Uprobe || kind == ProbeKind::Uretprobe ||
           kind == ProbeKind::Fentry || kind == ProbeKind::Fexit;
  return true;
}

const char *builtin_probe_hint(const std::string &builtin) {
  if (builtin == "retval")
    return "retval is available in kretprobe, uretprobe and fexit probes";
  if (builtin == "args")
    return "args is available in tracepoint, fentry and fexit probes";
  if (builtin == "func")
    return "func is available in kprobe, kretprobe, uprobe, uretprobe, fentry "
           "and fexit probes";
  return "arg0..arg9 are available in kprobe, uprobe and rawtracepoint probes";
}

bool is_user_probe(ProbeKind kind) {
  return kind == ProbeKind::Uprobe || kind == ProbeKind::Uretprobe;
}

struct MapState {
  MapDesc desc;
  bool key_known = false;
  bool value_known = false;
  SourceRange key_site, value_site;
  // --- performance: every key so far is one integer that fits 32 bits
  // (see narrow_key); which signs they had.
  bool key_fits_32 = true;
  bool key_signed = false, key_unsigned = false;
};

// Builtins whose values are 32-bit numbers, though typed uint64 as in
// bpftrace.
bool is_32_bit_builtin(const std::string &name) {
  return name == "pid" || name == "tid" || name == "uid" || name == "gid" ||
         name == "cpu" || name == "cpid";
}

// Number of buckets of a key-less hist()/lhist() (output.cpp prints the
// same): hist: < 0, == 0, then 63 powers of two; lhist: below, each step,
// above.
uint32_t histogram_buckets(const MapDesc &desc) {
  if (desc.agg == AggKind::Hist)
    return 65;
  if (desc.lhist_step <= 0 || desc.lhist_max <= desc.lhist_min)
    return 2;
  return static_cast<uint32_t>((desc.lhist_max - desc.lhist_min) /
                               desc.lhist_step) +
         2;
}

class TypeChecker {
public:
  TypeChecker(Diagnostics &diags, SemanticResult &result)
      : diags_(diags), result_(result) {}

  void run(ast::Program &program) {
    apply_config(program.config);
    if (result_.options.read_environment)
      apply_environment();
    for (const auto &decl : program.map_decls)
      declare_map(decl);
    for (int round = 0; round < kRounds; ++round) {
      final_ = round == kRounds - 1;
      for (size_t i = 0; i < program.probes.size(); ++i)
        check_probe(program.probes[i], i);
    }
    publish_maps();
  }

private:
  // Errors are only reported on the final round; earlier rounds only learn.
  Diagnostic &error(SourceRange range, std::string message) {
    if (!final_) {
      scratch_ = Diagnostic{};
      return scratch_;
    }
    return diags_.error(range, std::move(message));
  }

  // ------------------------------------------------------------ settings

  // A string_size / map_size value from the config block or environment;
  // nullopt (after an error) when out of range.
  std::optional<uint32_t> limit_value(const std::string &text, uint64_t max,
                                      const std::string &what,
                                      SourceRange range) {
    uint64_t value = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec == std::errc() && end == text.data() + text.size() && value >= 1 &&
        value <= max)
      return static_cast<uint32_t>(value);
    diags_.error(range, what + " must be a number from 1 to " +
                            std::to_string(max) + ", not '" + text + "'");
    return std::nullopt;
  }

  // The settings bpftrace reads from `config = { ... }`. Keys are
  // case-insensitive and may carry bpftrace's "bpftrace_" prefix.
  void apply_config(const std::vector<ast::ConfigEntry> &config) {
    static const std::set<std::string> ignored = {
        "cpp_demangle",   "lazy_symbolication", "log_size",
        "max_bpf_progs",  "max_cat_bytes",      "max_type_res_iterations",
        "perf_rb_pages",  "str_trunc_trailer",  "print_maps_on_exit",
        "missing_probes", "cache_user_symbols"};
    static const std::vector<std::string> known = {"max_map_keys", "max_probes",
                                                   "max_strlen", "stack_mode"};
    for (const auto &entry : config) {
      std::string key = entry.key;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (key.rfind("bpftrace_", 0) == 0)
        key = key.substr(strlen("bpftrace_"));
      if (key == "max_strlen") {
        if (auto v = limit_value(entry.value, kMaxStringSize, "max_strlen",
                                 entry.range))
          result_.options.string_size = *v;
      } else if (key == "max_map_keys") {
        if (auto v = limit_value(entry.value, UINT32_MAX, "max_map_keys",
                                 entry.range))
          result_.options.map_size = *v;
      } else if (key == "max_probes") {
        if (auto v =
                limit_value(entry.value, UINT32_MAX, "max_probes", entry.range))
          result_.options.max_probes = *v;
      } else if (key == "stack_mode") {
        if (auto mode = stack_mode_named(entry.value))
          result_.options.stack_mode = *mode;
        else
          diags_.error(entry.range, "unknown stack_mode '" + entry.value + "'")
              .hint("expected bpftrace, perf or raw");
      } else if (ignored.count(key)) {
        diags_.warning(entry.range,
                       "config '" + entry.key + "' has no effect in hvt");
      } else {
        auto &d = diags_.error(entry.range,
                               "unknown config setting '" + entry.key + "'");
        std::string guess = closest_match(key, known);
        if (!guess.empty())
          d.hint("did you mean '" + guess + "'?");
        d.hint("hvt understands max_map_keys, max_probes, max_strlen and "
               "stack_mode");
      }
    }
  }

  // bpftrace 0.17's environment variables and the newer spellings; like
  // bpftrace, they override the config block.
  void apply_environment() {
    auto env = [](const char *name) -> const char * {
      const char *value = getenv(name);
      return value && *value ? value : nullptr;
    };
    for (const char *name : {"BPFTRACE_STRLEN", "BPFTRACE_MAX_STRLEN"})
      if (const char *value = env(name))
        if (auto v =
                limit_value(value, kMaxStringSize,
                            std::string("environment variable ") + name, {}))
          result_.options.string_size = *v;
    for (const char *name : {"BPFTRACE_MAP_KEYS_MAX", "BPFTRACE_MAX_MAP_KEYS"})
      if (const char *value = env(name))
        if (auto v =
                limit_value(value, UINT32_MAX,
                            std::string("environment variable ") + name, {}))
          result_.options.map_size = *v;
    if (const char *value = env("BPFTRACE_MAX_PROBES"))
      if (auto v = limit_value(value, UINT32_MAX,
                               "environment variable BPFTRACE_MAX_PROBES", {}))
        result_.options.max_probes = *v;
    if (const char *value = env("BPFTRACE_STACK_MODE")) {
      if (auto mode = stack_mode_named(value))
        result_.options.stack_mode = *mode;
      else
        diags_
            .error({}, std::string("environment variable "
                                   "BPFTRACE_STACK_MODE: unknown stack "
                                   "mode '") +
                           value + "'")
            .hint("expected bpftrace, perf or raw");
    }
  }

  void declare_map(const ast::MapDecl &decl) {
    static const std::map<std::string, MapStorage> storages = {
        {"hash", MapStorage::Hash},
        {"lruhash", MapStorage::LruHash},
        {"percpuhash", MapStorage::PercpuHash},
        {"percpulruhash", MapStorage::PercpuLruHash},
        {"percpuarray", MapStorage::PercpuArray}};
    auto it = storages.find(decl.storage);
    if (it == storages.end()) {
      diags_.error(decl.range, "unknown map type '" + decl.storage + "'")
          .hint("expected one of hash, lruhash, percpuhash, percpulruhash, "
                "percpuarray");
      return;
    }
    auto &state = maps_[decl.name];
    state.desc.name = decl.name;
    state.desc.storage = it->second;
    state.desc.max_entries = decl.max_entries;
    declared_.insert(decl.name);
    declared_ranges_[decl.name] = decl.range;
  }

  void publish_maps() {
    result_.maps.clear();
    result_.map_index.clear();
    for (auto &[name, state] : maps_) {
      MapDesc desc = state.desc;
      desc.name = name;
      if (desc.max_entries == 0)
        desc.max_entries = result_.options.map_size;
      if (!declared_.count(name)) {
        desc.storage = desc.agg == AggKind::None ? MapStorage::Hash
                                                 : MapStorage::PercpuHash;
        bool histogram =
            desc.agg == AggKind::Hist || desc.agg == AggKind::LHist;
        // --- performance: a key-less histogram is a per-CPU array indexed
        // by the bucket: no hashing, no insert path, and the verifier
        // inlines the lookup. Printing skips its empty buckets.
        if (histogram && desc.key.is_none()) {
          desc.storage = MapStorage::PercpuArray;
          // One slot more, which only the runtime writes: zero() kept the
          // histogram (output.cpp).
          desc.max_entries = histogram_buckets(desc) + 1;
        }
        if (!histogram)
          narrow_key(state, desc);
      } else {
        check_declared_storage(name, state, desc);
      }
      result_.map_index[name] = result_.maps.size();
      result_.maps.push_back(std::move(desc));
    }
  }

  // --- performance: a map whose every key is a 32-bit number (tid, a u32
  // field, a small literal) gets a 4-byte key, as C would use: no zero
  // extension, a shorter hash. Keys print the same. Histograms keep the
  // 8-byte layout their bucket follows.
  static void narrow_key(const MapState &state, MapDesc &desc) {
    if (!state.key_fits_32 || !desc.key.is_integer() || desc.key.size != 8 ||
        (state.key_signed && state.key_unsigned))
      return;
    bool is_signed = state.key_signed ||
                     (!state.key_unsigned && desc.key.is_signed);
    desc.key = Type::integer(4, is_signed);
  }

  // Records whether the key expression of this use fits 32 bits.
  static void note_key_width(const ast::Map &map, MapState &state) {
    if (map.keys.size() != 1) {
      state.key_fits_32 = false;
      return;
    }
    const ast::Expr &k = *map.keys[0];
    if (auto *lit = k.as<ast::IntegerLit>()) {
      state.key_fits_32 = state.key_fits_32 && lit->value <= INT32_MAX;
    } else if (auto *b = k.as<ast::Builtin>();
               b && is_32_bit_builtin(b->name)) {
      state.key_unsigned = true;
    } else if (k.type.is_integer() && k.type.size <= 4) {
      (k.type.is_signed ? state.key_signed : state.key_unsigned) = true;
    } else {
      state.key_fits_32 = false;
    }
  }

  // A `let @m = STORAGE(N)` map must suit its use: aggregations are
  // updated without atomics, so only per-CPU storage keeps them exact, and
  // array maps are indexed by one integer (a u32 in BPF).
  void check_declared_storage(const std::string &name, const MapState &state,
                              MapDesc &desc) {
    if (!state.key_known && !state.value_known)
      return; // declared but never used: nothing to check against
    SourceRange decl = declared_ranges_[name];
    bool percpu = desc.storage == MapStorage::PercpuHash ||
                  desc.storage == MapStorage::PercpuLruHash ||
                  desc.storage == MapStorage::PercpuArray;
    bool array = desc.storage == MapStorage::PercpuArray ||
                 desc.storage == MapStorage::Array;
    if (desc.agg != AggKind::None && !percpu) {
      diags_
          .error(decl, "map " + name + " holds " + aggregation_name(desc.agg) +
                           ", which needs per-CPU storage")
          .note(state.value_site, "assigned here")
          .hint("declare it with percpuhash, percpulruhash or percpuarray");
      return;
    }
    if (!array)
      return;
    if (desc.agg == AggKind::Hist || desc.agg == AggKind::LHist) {
      diags_
          .error(decl, "map " + name + " holds " + aggregation_name(desc.agg) +
                           ", which an array map cannot store")
          .note(state.value_site, "assigned here")
          .hint("declare it with percpuhash or percpulruhash");
      return;
    }
    if (!desc.key.is_integer()) {
      diags_
          .error(decl, "array map " + name +
                           " must be indexed by one integer, e.g. " + name +
                           "[0]")
          .note(state.key_site, "used here");
      return;
    }
    desc.key = Type::integer(4, false); // BPF array keys are u32
  }

  void check_probe(ast::Probe &probe, size_t index) {
    probe_ = &result_.probes[index];
    probe_->variables.clear();
    var_ktypes_.clear();
    var_int_sizes_.clear();
    if (probe.predicate)
      check_condition(*probe.predicate, "predicate");
    check_block(probe.body);
  }

  // An if/while/ternary condition or a predicate: an integer. A condition
  // whose own error was already reported is not reported again.
  void check_condition(ast::Expr &cond, const char *what) {
    size_t errors_before = diags_.error_count();
    Type t = check_own(cond);
    if (!t.is_integer() && diags_.error_count() == errors_before)
      error(cond.range,
            std::string(what) + " must be an integer, not " +
                (t.is_none() ? "a statement without a value" : t.name()));
  }

  // "join() has no value" rather than "a value of type none".
  std::string no_value(const ast::Expr &e) {
    if (auto *call = e.as<ast::Call>())
      return call->name + "() returns no value";
    return "this has no value";
  }

  void check_block(ast::StmtList &body) {
    for (auto &stmt : body)
      check_stmt(*stmt);
  }

  void check_stmt(ast::Stmt &stmt) {
    switch (stmt.kind) {
    case ast::StmtKind::Expr: {
      auto &expr = *stmt.as<ast::ExprStmt>()->expr;
      if (auto *call = expr.as<ast::Call>(); call && is_aggregation(call->name)) {
        error(call->name_range, call->name + "() must be assigned to a map")
            .hint("e.g. @x = " + call->name + "(...)");
        return;
      }
      exempt_ = &expr; // the one place a call may have no value
      check(expr);
      return;
    }
    case ast::StmtKind::AssignMap:
      check_map_assign(*stmt.as<ast::AssignMap>());
      return;
    case ast::StmtKind::AssignVar:
      check_var_assign(*stmt.as<ast::AssignVar>());
      return;
    case ast::StmtKind::If: {
      auto &s = *stmt.as<ast::If>();
      check_condition(*s.cond, "condition");
      check_block(s.then_body);
      check_block(s.else_body);
      return;
    }
    case ast::StmtKind::Unroll: {
      auto &s = *stmt.as<ast::Unroll>();
      auto *n = s.count->as<ast::IntegerLit>();
      if (!n || n->value < 1 || n->value > 100)
        error(s.count->range, "unroll count must be a constant from 1 to 100");
      check_block(s.body);
      return;
    }
    case ast::StmtKind::While: {
      auto &s = *stmt.as<ast::While>();
      check_condition(*s.cond, "condition");
      ++loop_depth_;
      check_block(s.body);
      --loop_depth_;
      return;
    }
    case ast::StmtKind::Jump: {
      auto &s = *stmt.as<ast::Jump>();
      if (s.jump != ast::JumpKind::Return && loop_depth_ == 0)
        error(s.range, std::string(s.jump == ast::JumpKind::Break ? "break" : "continue") +
                           " outside of a loop");
      return;
    }
    case ast::StmtKind::Block:
      check_block(stmt.as<ast::BlockStmt>()->body);
      return;
    }
  }

  // ------------------------------------------------------------------ maps

  MapState &map_state(const ast::Map &map) {
    auto &state = maps_[map.name];
    state.desc.name = map.name;
    if (!state.desc.range.valid())
      state.desc.range = map.range;
    return state;
  }

  void check_map_key(ast::Map &map, MapState &state) {
    size_t errors_before = diags_.error_count();
    Type key;
    if (map.keys.size() == 1) {
      key = storage_type(check(*map.keys[0]));
    } else if (map.keys.size() > 1) {
      std::vector<Type> fields;
      for (auto &k : map.keys)
        fields.push_back(storage_type(check(*k)));
      key = Type::tuple(std::move(fields));
    }
    for (auto &k : map.keys)
      if (k->type.kind == TypeKind::Pointer ||
          (k->type.is_none() && diags_.error_count() == errors_before))
        error(k->range, "invalid map key of type " + k->type.name());
    note_key_width(map, state);
    if (!state.key_known) {
      state.desc.key = key;
      state.key_known = true;
      state.key_site = map.range;
      return;
    }
    Type merged = state.desc.key;
    if (key.is_none() != merged.is_none() || !unify(merged, key)) {
      error(map.range, "map " + map.name + " used with key " +
                           (key.is_none() ? "none" : key.name()) +
                           ", but it was first used with key " +
                           (state.desc.key.is_none() ? "none" : state.desc.key.name()))
          .note(state.key_site, "first used here");
      return;
    }
    state.desc.key = merged;
  }

  void set_map_value(const ast::Map &map, MapState &state, AggKind agg,
                     const Type &value, SourceRange site) {
    if (!state.value_known) {
      state.desc.agg = agg;
      state.desc.value = value;
      state.value_known = true;
      state.value_site = site;
      return;
    }
    if (state.desc.agg != agg) {
      error(site, "map " + map.name + " is assigned " + aggregation_name(agg) +
                      ", but it already holds " + aggregation_name(state.desc.agg))
          .note(state.value_site, "first assigned here");
      return;
    }
    Type merged = state.desc.value;
    if (!unify(merged, value)) {
      error(site, "map " + map.name + " is assigned a value of type " +
                      value.name() + ", but it already holds " +
                      state.desc.value.name())
          .note(state.value_site, "first assigned here");
      return;
    }
    state.desc.value = merged;
  }

  // `x /= 0` and `x %= 0`, caught like `x / 0`.
  static bool divides_by_zero(const ast::AssignOp &op, const ast::Expr &value) {
    const auto *literal = value.as<ast::IntegerLit>();
    return op.compound &&
           (op.op == ast::BinaryOp::Div || op.op == ast::BinaryOp::Mod) &&
           literal && literal->value == 0;
  }

  void check_map_assign(ast::AssignMap &s) {
    auto &map = *s.map;
    auto &state = map_state(map);
    check_map_key(map, state);
    map.type = state.desc.value;
    auto *call = s.value->as<ast::Call>();
    if (call && is_aggregation(call->name)) {
      if (s.op.compound) {
        error(s.range, "cannot combine " + call->name + "() with a compound assignment");
        return;
      }
      check_aggregation(*call, map, state);
      return;
    }
    size_t errors_before = diags_.error_count();
    Type value = storage_type(check_own(*s.value));
    if (value.is_none() || value.kind == TypeKind::Pointer) {
      // An operand that already failed has type none: do not pile on.
      if (diags_.error_count() == errors_before)
        error(s.value->range,
              value.is_none() ? "cannot assign to a map: " + no_value(*s.value)
                              : "cannot assign a value of type " +
                                    value.name() + " to a map");
      return;
    }
    if (s.op.compound && !value.is_integer()) {
      error(s.value->range, "compound assignment needs an integer, not " + value.name());
      return;
    }
    if (divides_by_zero(s.op, *s.value)) {
      error(s.value->range, "division by zero");
      return;
    }
    set_map_value(map, state, AggKind::None, value, s.value->range);
    map.type = state.desc.value;
  }

  void check_aggregation(ast::Call &call, ast::Map &map, MapState &state) {
    AggKind agg = aggregation_kind(call.name);
    size_t want = agg == AggKind::Count ? 0 : agg == AggKind::LHist ? 4 : 1;
    if (call.args.size() != want) {
      error(call.range, call.name + "() takes " + std::to_string(want) +
                            " argument" + (want == 1 ? "" : "s") + ", " +
                            std::to_string(call.args.size()) + " given");
      return;
    }
    for (auto &arg : call.args) {
      Type t = check(*arg);
      if (!t.is_integer() && !t.is_none()) // none: reported already
        error(arg->range, call.name + "() needs an integer, not " + t.name());
    }
    if (agg == AggKind::LHist) {
      int64_t params[3];
      for (int i = 0; i < 3; ++i) {
        auto *lit = call.args[i + 1]->as<ast::IntegerLit>();
        const ast::Expr *arg = call.args[i + 1].get();
        bool negative = false;
        if (auto *u = arg->as<ast::Unary>(); u && u->op == ast::UnaryOp::Neg) {
          lit = u->operand->as<ast::IntegerLit>();
          negative = true;
        }
        if (!lit) {
          error(arg->range, "lhist() min, max and step must be constants");
          return;
        }
        params[i] = negative ? -static_cast<int64_t>(lit->value)
                             : static_cast<int64_t>(lit->value);
      }
      if (params[2] <= 0) {
        error(call.args[3]->range, "lhist() step must be greater than zero");
        return;
      }
      if (params[1] <= params[0]) {
        error(call.args[2]->range, "lhist() max must be greater than min");
        return;
      }
      if (params[2] > params[1] - params[0]) { // as bpftrace 0.17 rejects it
        error(call.args[3]->range, "lhist() step is larger than max - min")
            .hint("use a step of at most " +
                  std::to_string(params[1] - params[0]));
        return;
      }
      if ((params[1] - params[0]) / params[2] > 1000) {
        error(call.range, "lhist() would have more than 1000 buckets")
            .hint("raise the step or narrow min..max");
        return;
      }
      if (state.value_known && state.desc.agg == AggKind::LHist &&
          (state.desc.lhist_min != params[0] || state.desc.lhist_max != params[1] ||
           state.desc.lhist_step != params[2])) {
        error(call.range, "lhist() on map " + map.name +
                              " uses different bounds than before")
            .note(state.value_site, "first assigned here");
        return;
      }
      state.desc.lhist_min = params[0];
      state.desc.lhist_max = params[1];
      state.desc.lhist_step = params[2];
    }
    Type value = Type::int64();
    if (agg == AggKind::Count || agg == AggKind::Hist || agg == AggKind::LHist)
      value = Type::uint64();
    else if (!call.args.empty() && call.args[0]->type.is_integer())
      value = Type::integer(8, call.args[0]->type.is_signed);
    set_map_value(map, state, agg, value, call.range);
    call.type = Type::none();
  }

  Type check_map_read(ast::Map &map) {
    auto &state = map_state(map);
    check_map_key(map, state);
    if (!state.value_known) {
      error(map.range, "map " + map.name + " is read but never assigned");
      return map.type = Type::int64();
    }
    switch (state.desc.agg) {
    case AggKind::Stats:
    case AggKind::Hist:
    case AggKind::LHist:
      error(map.range, "cannot read " +
                           std::string(aggregation_name(state.desc.agg)) +
                           " map " + map.name + " in a probe")
          .hint("only count(), sum(), min(), max() and avg() maps can be read "
                "in a probe");
      return map.type = Type::none();
    // Read by combining every CPU's copy, as printing does.
    case AggKind::Count:
      return map.type = Type::uint64();
    case AggKind::Avg:
      return map.type = Type::int64();
    case AggKind::Sum:
    case AggKind::Min:
    case AggKind::Max:
    case AggKind::None:
      break;
    }
    return map.type = state.desc.value;
  }

  // ------------------------------------------------------------ variables

  void check_var_assign(ast::AssignVar &s) {
    size_t errors_before = diags_.error_count();
    Type assigned = check_own(*s.value);
    Type value = storage_type(assigned);
    if (!s.op.compound && assigned.is_integer())
      var_int_sizes_.emplace(s.var->name, assigned.size);
    auto &vars = probe_->variables;
    auto it = vars.find(s.var->name);
    if (s.op.compound) {
      if (it == vars.end()) {
        error(s.var->range, "undefined variable '" + s.var->name + "'");
        return;
      }
      if (!it->second.is_integer() || !value.is_integer())
        error(s.range, "compound assignment needs integers");
      else if (divides_by_zero(s.op, *s.value))
        error(s.value->range, "division by zero");
      s.var->type = it->second;
      return;
    }
    if (value.is_none()) {
      if (diags_.error_count() == errors_before)
        error(s.value->range,
              "cannot assign to " + s.var->name + ": " + no_value(*s.value));
      return;
    }
    if (it == vars.end()) {
      vars[s.var->name] = value;
    } else if (!unify(it->second, value)) {
      error(s.range, "variable '" + s.var->name + "' holds " + it->second.name() +
                         "; cannot assign " + value.name());
    }
    s.var->type = vars[s.var->name];
    note_var_kernel_type(s);
  }

  // ---------------------------------------------------------- expressions

  Type check(ast::Expr &e) {
    const ast::Expr *exempt = exempt_;
    exempt_ = nullptr;
    const ast::Expr *kernel_object = kernel_object_;
    kernel_object_ = nullptr;
    size_t errors_before = diags_.error_count();
    e.type = infer(e);
    if (e.ktype.btf_id && e.ktype.pointers == 0 && &e != kernel_object)
      return e.type = kernel_object_misused(e);
    // A kernel pointer (curtask, a cast, a member, `ptr + n`) prints as
    // bpftrace prints addresses; a cast to an integer type drops that.
    if (e.ktype.pointers > 0 && e.type.is_integer() && e.type.size == 8)
      e.type.is_pointer = true;
    // A call without a value (printf(), clear()...) used where a value is
    // needed: an operand, an argument. Statements need none, and
    // assignments and conditions word the error themselves (check_own).
    if (e.type.is_none() && e.kind == ast::ExprKind::Call && &e != exempt &&
        diags_.error_count() == errors_before)
      error(e.range, no_value(e));
    return e.type;
  }

  // check() where the caller reports a value-less call in its own words.
  Type check_own(ast::Expr &e) {
    exempt_ = &e;
    return check(e);
  }

  Type infer(ast::Expr &e) {
    switch (e.kind) {
    case ast::ExprKind::Integer: {
      // bpftrace types every literal int64: 0xffffffffffffffff is -1.
      return Type::int64();
    }
    case ast::ExprKind::String:
      return Type::string(e.as<ast::StringLit>()->value.size() + 1);
    case ast::ExprKind::Builtin:
      return infer_builtin(*e.as<ast::Builtin>());
    case ast::ExprKind::Positional:
      return infer_positional(*e.as<ast::Positional>());
    case ast::ExprKind::Variable: {
      auto &v = *e.as<ast::Variable>();
      auto it = probe_->variables.find(v.name);
      if (it == probe_->variables.end()) {
        error(v.range, "undefined variable '" + v.name + "'");
        return Type::none();
      }
      v.ktype = var_ktypes_[v.name];
      return it->second;
    }
    case ast::ExprKind::Map:
      return check_map_read(*e.as<ast::Map>());
    case ast::ExprKind::Call:
      return infer_call(*e.as<ast::Call>());
    case ast::ExprKind::Binary:
      return infer_binary(*e.as<ast::Binary>());
    case ast::ExprKind::Unary:
      return infer_unary(*e.as<ast::Unary>());
    case ast::ExprKind::Ternary: {
      auto &t = *e.as<ast::Ternary>();
      check_condition(*t.cond, "condition");
      Type a = storage_type(check(*t.then_expr));
      Type b = storage_type(check(*t.else_expr));
      if (a.is_integer() && b.is_integer()) {
        Type integer = Type::integer(8, a.is_signed || b.is_signed);
        // Two addresses make an address, which prints as one.
        integer.is_pointer = a.is_pointer && b.is_pointer;
        return integer;
      }
      Type merged = a;
      if (!unify(merged, b)) {
        error(t.range, "ternary branches have different types: " + a.name() +
                           " and " + b.name());
        return Type::none();
      }
      return merged;
    }
    case ast::ExprKind::Field:
      return infer_field(*e.as<ast::Field>());
    case ast::ExprKind::TupleIndex: {
      auto &t = *e.as<ast::TupleIndex>();
      Type object = check(*t.object);
      if (!object.is_tuple()) {
        error(t.range, "cannot index a value of type " + object.name() + " with ." +
                           std::to_string(t.index));
        return Type::none();
      }
      if (t.index >= object.fields.size()) {
        error(t.range, "tuple index " + std::to_string(t.index) +
                           " out of range for " + object.name());
        return Type::none();
      }
      return object.fields[t.index];
    }
    case ast::ExprKind::Index:
      return infer_index(*e.as<ast::Index>());
    case ast::ExprKind::Cast: {
      auto &c = *e.as<ast::Cast>();
      if (!c.struct_name.empty())
        return infer_struct_cast(c);
      Type operand = check(*c.operand);
      if (!operand.is_integer()) {
        error(c.range, "cannot cast " + operand.name() + " to " + c.type_name);
        return Type::none();
      }
      static const std::map<std::string, Type> types = {
          {"int8", Type::integer(1, true)},   {"int16", Type::integer(2, true)},
          {"int32", Type::integer(4, true)},  {"int64", Type::integer(8, true)},
          {"uint8", Type::integer(1, false)}, {"uint16", Type::integer(2, false)},
          {"uint32", Type::integer(4, false)}, {"uint64", Type::integer(8, false)}};
      auto it = types.find(c.type_name);
      if (it == types.end()) {
        error(c.range, "unknown type '" + c.type_name + "'")
            .hint("casts to int8..int64 and uint8..uint64 are supported");
        return Type::none();
      }
      return it->second;
    }
    case ast::ExprKind::Tuple: {
      std::vector<Type> fields;
      for (auto &el : e.as<ast::TupleExpr>()->elements) {
        Type t = storage_type(check(*el));
        if (t.is_none() || t.kind == TypeKind::Pointer)
          error(el->range, "a tuple cannot hold a value of type " + t.name());
        fields.push_back(t);
      }
      return Type::tuple(std::move(fields));
    }
    }
    return Type::none();
  }

  Type infer_builtin(ast::Builtin &b) {
    const std::string &n = b.name;
    for (const auto &point : probe_->points)
      if (!probe_allows(point.desc.kind, n)) {
        error(b.range, "builtin '" + n + "' is not available in probe '" +
                           point.desc.display + "'")
            .hint(builtin_probe_hint(n));
        return Type::none();
      }
    if (n == "cpid" && result_.options.child_pid == 0) {
      error(b.range, "cpid cannot be used without a child command")
          .hint("start one with -c 'COMMAND'");
      return Type::none();
    }
    if (n == "curtask") // a struct task_struct *, looked up once it is used
      b.ktype = {0, 1, "task_struct"};
    if (n == "pid" || n == "tid" || n == "uid" || n == "gid" || n == "nsecs" ||
        n == "elapsed" || n == "cpu" || n == "cgroup" || n == "rand" ||
        n == "curtask" || n == "cpid")
      return Type::uint64();
    if (n.size() == 4 && n.rfind("arg", 0) == 0 && isdigit(n[3]))
      return Type::uint64();
    if (n == "retval")
      return Type::uint64(); // as bpftrace: compare with (int64)retval < 0
    if (n == "comm")
      return Type::string(kCommSize);
    if (n == "args")
      return Type::of_kind(TypeKind::Pointer, 8);
    if (n == "probe") {
      size_t longest = 0;
      for (const auto &point : probe_->points)
        longest = std::max(longest, point.desc.display.size());
      return Type::string(longest + 1);
    }
    if (n == "kstack")
      return Type::of_kind(TypeKind::KStack, kKStackSize);
    if (n == "ustack")
      return Type::of_kind(TypeKind::UStack, kUStackSize);
    if (n == "username")
      return Type::of_kind(TypeKind::Username, 8);
    if (n == "func") {
      bool user = false, kernel = false;
      for (const auto &point : probe_->points)
        (is_user_probe(point.desc.kind) ? user : kernel) = true;
      if (user && kernel) {
        error(b.range, "func cannot name both a user and a kernel function "
                       "in one probe")
            .hint("split the uprobes and the kernel probes into two probes");
        return Type::none();
      }
      return user ? Type::of_kind(TypeKind::Usym, kUsymSize)
                  : Type::of_kind(TypeKind::Ksym, 8);
    }
    if (const btf::Btf *btf = btf::Btf::vmlinux(); btf && !b.kernel_enum)
      b.kernel_enum = btf->find_enum_value(n); // TCP_ESTABLISHED
    if (b.kernel_enum)
      return Type::int64();
    auto &d = error(b.range, "unknown builtin '" + n + "'");
    std::string guess = closest_match(n, builtin_names());
    if (guess.empty())
      guess = closest_match(n, function_names());
    if (!guess.empty())
      d.hint("did you mean '" + guess + "'?");
    return Type::none();
  }

  Type infer_positional(ast::Positional &p) {
    if (p.is_count)
      return Type::int64();
    const auto &params = result_.options.positional;
    if (p.index < 1 || static_cast<size_t>(p.index) > params.size())
      return Type::int64(); // a missing parameter reads as 0, as in bpftrace
    const std::string &text = params[p.index - 1];
    int64_t value;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc() || end != text.data() + text.size()) {
      error(p.range, "$" + std::to_string(p.index) +
                         " is used as a number, but '" + text + "' is not one")
          .hint("use str($" + std::to_string(p.index) +
                ") for a string parameter");
      return Type::none();
    }
    return Type::int64();
  }

  // str($N): the parameter's text ("" when it is missing), whatever it
  // holds, cut to `size` bytes with the NUL.
  Type positional_string(ast::Positional &p, uint32_t size) {
    const auto &params = result_.options.positional;
    size_t length =
        p.index >= 1 && static_cast<size_t>(p.index) <= params.size()
            ? params[p.index - 1].size()
            : 0;
    return p.type = Type::string(std::min<uint64_t>(length + 1, size));
  }

  Type infer_field(ast::Field &f) {
    kernel_object_ = f.object.get();
    Type object = check(*f.object);
    if (f.object->ktype.valid() || (f.arrow && object.is_integer()))
      return infer_kernel_member(f, object);
    auto *builtin = f.object->as<ast::Builtin>();
    if (!builtin || builtin->name != "args" || object.kind != TypeKind::Pointer) {
      if (!object.is_none())
        error(f.range, "cannot access field '" + f.field + "' of a value of type " +
                           object.name());
      return Type::none();
    }
    Type type;
    for (const auto &point : probe_->points) {
      if (!point.format) {
        error(f.range, "args fields are only known for tracepoints here");
        return Type::none();
      }
      const TracepointField *field = point.format->find(f.field);
      if (!field) {
        auto &d = error(f.field_range, "tracepoint " + point.desc.target +
                                           " has no field '" + f.field + "'");
        std::string guess = closest_match(f.field, point.format->field_names());
        if (!guess.empty())
          d.hint("did you mean '" + guess + "'?");
        std::string all;
        for (const auto &name : point.format->field_names())
          all += (all.empty() ? "" : ", ") + name;
        d.hint("its fields are: " + all);
        return Type::none();
      }
      if (field->type.is_none()) {
        error(f.field_range, "field '" + f.field + "' of type '" + field->c_type +
                                 "' cannot be read yet");
        return Type::none();
      }
      if (type.is_none()) {
        type = field->type;
        f.ktype = struct_pointer_field(*field);
      } else if (!unify(type, field->type)) {
        error(f.range, "field '" + f.field + "' has different types in the probe's "
                       "tracepoints");
        return Type::none();
      }
    }
    return type;
  }

  // ------------------------------------------------- kernel structs (BTF)

  const btf::Btf *kernel_btf(SourceRange range) {
    const btf::Btf *btf = btf::Btf::vmlinux();
    if (!btf)
      error(range, "kernel struct types need the kernel's BTF, but "
                   "/sys/kernel/btf/vmlinux is missing or unreadable")
          .hint("use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
    return btf;
  }

  // `kt` with its struct looked up (KernelType::later); invalid without
  // BTF or the struct (after an error at `range`).
  ast::KernelType resolved(ast::KernelType kt, SourceRange range) {
    if (kt.later.empty())
      return kt;
    const btf::Btf *btf = kernel_btf(range);
    kt.btf_id = btf ? btf->find_struct(kt.later) : 0;
    if (btf && !kt.btf_id)
      error(range, "unknown struct '" + kt.later + "'")
          .hint("the kernel's BTF has no struct of that name");
    kt.later.clear();
    return kt;
  }

  static bool kernel_array(const ast::KernelType &kt) {
    return kt.btf_id && kt.pointers == 0 &&
           btf::Btf::vmlinux()->kind(kt.btf_id) == BTF_KIND_ARRAY;
  }

  // "struct sock *", "struct sock_common", "u8[16]".
  static std::string kernel_type_name(const ast::KernelType &kt) {
    std::string name = kt.btf_id ? btf::Btf::vmlinux()->spell(kt.btf_id)
                                 : "struct " + kt.later;
    if (kt.pointers)
      name += " " + std::string(kt.pointers, '*');
    return name;
  }

  // `(struct NAME *)expr`: the integer `expr` as a kernel pointer.
  Type infer_struct_cast(ast::Cast &c) {
    Type operand = check(*c.operand);
    if (c.pointers == 0 || operand.is_none())
      return Type::none(); // reported by the AST builder or the operand
    if (!operand.is_integer()) {
      error(c.range, "cannot cast " + operand.name() + " to " + c.type_name);
      return Type::none();
    }
    const btf::Btf *btf = kernel_btf(c.range);
    if (!btf)
      return Type::none();
    uint32_t id = btf->find_struct(c.struct_name, c.is_union);
    if (!id) {
      const char *tag = c.is_union ? "union" : "struct";
      auto &d = error(c.range, std::string("unknown ") + tag + " '" +
                                   c.struct_name + "'")
                    .hint(std::string("the kernel's BTF has no ") + tag +
                          " of that name");
      std::string guess =
          closest_match(c.struct_name, btf->struct_names(c.is_union));
      if (!guess.empty())
        d.hint("did you mean '" + std::string(tag) + " " + guess + "'?");
      return Type::none();
    }
    c.ktype = {id, c.pointers, "", false};
    return Type::uint64();
  }

  // `ptr->member` and `value.member` on kernel structs and unions.
  Type infer_kernel_member(ast::Field &f, const Type &object) {
    if (f.object->ktype.valid()) {
      f.object->ktype = resolved(f.object->ktype, f.range);
      if (!f.object->ktype.valid())
        return Type::none(); // no BTF: reported
    }
    const ast::KernelType &kt = f.object->ktype;
    if (!kt.valid()) {
      error(f.range,
            "'->' needs a pointer to a kernel struct, not " + object.name())
          .hint("cast it to one first, e.g. (struct sock *)");
      return Type::none();
    }
    const btf::Btf &btf = *btf::Btf::vmlinux();
    uint32_t kind = btf.kind(kt.btf_id);
    bool aggregate = kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION;
    std::string object_name = kernel_type_name(kt);
    if (!aggregate || kt.pointers > 1) {
      error(f.range,
            "cannot access member '" + f.field + "' of " + object_name);
      return Type::none();
    }
    if (f.arrow && kt.pointers == 0) {
      error(f.range, "'->' needs a pointer, but this is a " + object_name)
          .hint("use '.' to access its members");
      return Type::none();
    }
    if (!f.arrow && kt.pointers == 1) {
      error(f.range,
            "'.' needs a struct, but this is a pointer (" + object_name + ")")
          .hint("use '->' to access its members");
      return Type::none();
    }
    auto member = btf::find_member(btf, kt.btf_id, f.field);
    if (!member) {
      auto &d =
          error(f.field_range, object_name.substr(0, object_name.find(" *")) +
                                   " has no member '" + f.field + "'");
      std::string guess =
          closest_match(f.field, btf::member_names(btf, kt.btf_id));
      if (!guess.empty())
        d.hint("did you mean '" + guess + "'?");
      return Type::none();
    }
    f.read.any_space = kt.any_space;
    return kernel_value(f, f.read, member->type, member->bit_offset,
                        member->bitfield_size, f.field_range);
  }

  // `array[N]` on an array member of a kernel struct: a constant index.
  Type infer_index(ast::Index &i) {
    kernel_object_ = i.object.get();
    Type object = check(*i.object);
    Type index = check(*i.index);
    if (object.is_none() || index.is_none())
      return Type::none();
    if (!kernel_array(i.object->ktype)) {
      error(i.range,
            "cannot index a value of type " +
                (i.object->ktype.valid() ? kernel_type_name(i.object->ktype)
                                         : object.name()) +
                " with []")
          .hint("[] indexes array members of kernel structs");
      return Type::none();
    }
    const btf::Btf &btf = *btf::Btf::vmlinux();
    btf_array array = btf.array(i.object->ktype.btf_id);
    auto *literal = i.index->as<ast::IntegerLit>();
    if (!literal || literal->value >= array.nelems) {
      error(i.index->range,
            literal ? "index " + std::to_string(literal->value) +
                          " is out of bounds for " +
                          kernel_type_name(i.object->ktype)
                    : std::string("the index of a kernel array must be a "
                                  "constant"));
      return Type::none();
    }
    uint64_t element_bits = btf.size_of(array.type) * 8;
    i.read.any_space = i.object->ktype.any_space;
    return kernel_value(i, i.read, array.type, literal->value * element_bits, 0,
                        i.range);
  }

  // The value of a kernel member or element of BTF type `type_id` found
  // `bit_offset` bits into its object: sets how codegen reads it and the
  // expression's kernel type.
  Type kernel_value(ast::Expr &e, ast::KernelRead &read, uint32_t type_id,
                    uint64_t bit_offset, uint32_t bitfield_size,
                    SourceRange range) {
    const btf::Btf &btf = *btf::Btf::vmlinux();
    uint32_t id = btf.resolve(type_id);
    btf_type t = btf.type(id);
    read.active = true;
    read.offset = bit_offset / 8;
    bool is_signed = false;
    switch (BTF_INFO_KIND(t.info)) {
    case BTF_KIND_INT: {
      uint32_t encoding = btf.int_encoding(id);
      is_signed = BTF_INT_ENCODING(encoding) & BTF_INT_SIGNED;
      if (!bitfield_size && BTF_INT_BITS(encoding) < t.size * 8) {
        bitfield_size = BTF_INT_BITS(encoding);
        bit_offset += BTF_INT_OFFSET(encoding);
      }
      break;
    }
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
      is_signed = BTF_INFO_KFLAG(t.info);
      break;
    case BTF_KIND_PTR: {
      uint32_t pointers = 1, pointee = btf.resolve(t.type);
      while (btf.kind(pointee) == BTF_KIND_PTR && pointers < 8) {
        ++pointers;
        pointee = btf.resolve(btf.type(pointee).type);
      }
      if (pointee && btf.kind(pointee) != BTF_KIND_FUNC_PROTO)
        e.ktype = {pointee, pointers, "", read.any_space};
      read.size = 8;
      return Type::uint64();
    }
    case BTF_KIND_ARRAY: {
      btf_array array = btf.array(id);
      uint32_t element = btf.resolve(array.type);
      if (btf.kind(element) == BTF_KIND_INT && btf.type(element).size == 1 &&
          btf.type_name(element) == "char" && array.nelems > 0) {
        read.size = array.nelems; // printed as a string, like comm
        return Type::string(array.nelems);
      }
      e.ktype = {id, 0, "", read.any_space};
      return Type::of_kind(TypeKind::Pointer, 8); // its address
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      e.ktype = {id, 0, "", read.any_space};
      return Type::of_kind(TypeKind::Pointer, 8); // its address
    default:
      error(range, "cannot read a value of type '" + btf.spell(type_id) + "'");
      return Type::none();
    }
    if (t.size == 0 || t.size > 8) {
      error(range, "cannot read a " + std::to_string(t.size) +
                       " byte integer ('" + btf.spell(type_id) + "')");
      return Type::none();
    }
    read.size = t.size;
    if (bitfield_size) {
      uint32_t shift = bit_offset % 8;
      uint32_t bytes = (shift + bitfield_size + 7) / 8;
      while (bytes & (bytes - 1))
        ++bytes; // 1, 2, 4 or 8
      if (bytes > 8) {
        error(range, "cannot read a bitfield that spans more than 8 bytes");
        return Type::none();
      }
      read.offset = bit_offset / 8;
      read.size = bytes;
      read.bit_offset = shift;
      read.bit_size = bitfield_size;
    }
    return Type::integer(t.size, is_signed);
  }

  // A tracepoint field `struct NAME *`: a pointer to a kernel struct (in
  // user or kernel memory), looked up in BTF once a member is read.
  static ast::KernelType struct_pointer_field(const TracepointField &field) {
    std::string_view c = field.c_type;
    if (c.rfind("const ", 0) == 0)
      c.remove_prefix(6);
    if (c.rfind("struct ", 0) != 0 || field.size != 8)
      return {};
    c.remove_prefix(7);
    size_t name_end = c.find_first_of(" *");
    if (name_end == std::string_view::npos ||
        c.find('*') == std::string_view::npos)
      return {};
    auto stars = static_cast<uint32_t>(std::count(c.begin(), c.end(), '*'));
    return {0, stars, std::string(c.substr(0, name_end)), true};
  }

  // An embedded struct or array used as a value (printed, stored,
  // compared): it has none, only members or elements.
  Type kernel_object_misused(const ast::Expr &e) {
    bool array = kernel_array(e.ktype);
    error(e.range, kernel_type_name(e.ktype) + " is a" +
                       (array ? "n array" : " struct") +
                       " and cannot be used as a value")
        .hint(array ? "index it with a constant, e.g. [0], or pass a 4 or 16 "
                      "byte array to ntop()"
                    : "read one of its members with '.'");
    return Type::none();
  }

  // A variable keeps the kernel type of what it was assigned.
  void note_var_kernel_type(const ast::AssignVar &s) {
    const ast::KernelType &kt = s.value->ktype;
    // `$p = 0` and then `$p = (struct sock *)arg0` share the pointer type.
    auto it = var_ktypes_.emplace(s.var->name, kt).first;
    if (!it->second.valid())
      it->second = kt;
    else if (kt.valid() &&
             resolved(it->second, s.range) != resolved(kt, s.range)) {
      error(s.range,
            "variable '" + s.var->name + "' holds " +
                (it->second.valid() ? kernel_type_name(it->second)
                                    : s.var->type.name()) +
                "; cannot assign " +
                (kt.valid() ? kernel_type_name(kt) : s.var->type.name()));
      return;
    }
    s.var->ktype = it->second;
  }

  Type infer_binary(ast::Binary &b) {
    Type l = check(*b.lhs), r = check(*b.rhs);
    using Op = ast::BinaryOp;
    bool comparison = b.op == Op::Eq || b.op == Op::Ne || b.op == Op::Lt ||
                      b.op == Op::Le || b.op == Op::Gt || b.op == Op::Ge;
    if (l.is_none() || r.is_none())
      return Type::none();
    if (l.is_string() && r.is_string() && (b.op == Op::Eq || b.op == Op::Ne))
      return Type::uint64();
    if (!l.is_integer() || !r.is_integer()) {
      error(b.range, std::string("operator '") + ast::binary_op_spelling(b.op) +
                         "' cannot combine " + l.name() + " and " + r.name());
      return Type::none();
    }
    if ((b.op == Op::Div || b.op == Op::Mod) && b.rhs->as<ast::IntegerLit>() &&
        b.rhs->as<ast::IntegerLit>()->value == 0) {
      error(b.rhs->range, "division by zero");
      return Type::none();
    }
    if (comparison || b.op == Op::LogicalAnd || b.op == Op::LogicalOr)
      return Type::uint64();
    if ((b.op == Op::Add || b.op == Op::Sub) && b.lhs->ktype.valid() &&
        b.lhs->ktype.pointers > 0 && !b.rhs->ktype.valid())
      return scale_pointer_offset(b);
    return Type::integer(8, l.is_signed && r.is_signed);
  }

  // `ptr + n` and `ptr - n` step by the pointee's size and keep the
  // pointer's type, as in C and bpftrace 0.17: the offset is rewritten to
  // `n * size` (once: the checker runs several rounds).
  Type scale_pointer_offset(ast::Binary &b) {
    ast::KernelType kt = resolved(b.lhs->ktype, b.lhs->range);
    if (!kt.valid())
      return Type::none();
    uint64_t size =
        kt.pointers > 1 ? 8 : btf::Btf::vmlinux()->size_of(kt.btf_id);
    if (!b.pointer_scaled && size != 1) {
      auto scale = std::make_unique<ast::IntegerLit>();
      scale->value = size;
      scale->range = b.rhs->range;
      auto product = std::make_unique<ast::Binary>();
      product->op = ast::BinaryOp::Mul;
      product->range = b.rhs->range;
      product->lhs = std::move(b.rhs);
      product->rhs = std::move(scale);
      b.rhs = std::move(product);
      check(*b.rhs);
    }
    b.pointer_scaled = true;
    b.ktype = kt;
    return Type::uint64();
  }

  Type infer_unary(ast::Unary &u) {
    using Op = ast::UnaryOp;
    bool step = u.op == Op::PreIncrement || u.op == Op::PreDecrement ||
                u.op == Op::PostIncrement || u.op == Op::PostDecrement;
    if (step) {
      if (auto *map = u.operand->as<ast::Map>()) {
        auto &state = map_state(*map);
        check_map_key(*map, state);
        if (!state.value_known || state.desc.agg == AggKind::None)
          set_map_value(*map, state, AggKind::None, Type::int64(), u.range);
        map->type = state.desc.value;
        if (!map->type.is_integer())
          error(u.range, std::string("'") + ast::unary_op_spelling(u.op) +
                             "' needs an integer map");
        return map->type;
      }
      if (!u.operand->as<ast::Variable>()) {
        error(u.range, std::string("'") + ast::unary_op_spelling(u.op) +
                           "' needs a variable or a map");
        return Type::none();
      }
      Type t = check(*u.operand);
      if (!t.is_integer() && !t.is_none())
        error(u.range, std::string("'") + ast::unary_op_spelling(u.op) +
                           "' needs an integer, not " + t.name());
      return t;
    }
    Type t = check(*u.operand);
    if (t.is_none())
      return t; // reported already (check() reports value-less calls)
    if (u.op == Op::Deref) {
      error(u.range, "pointer dereference is not supported yet");
      return Type::none();
    }
    if (!t.is_integer()) {
      error(u.range, std::string("operator '") + ast::unary_op_spelling(u.op) +
                         "' needs an integer, not " + t.name());
      return Type::none();
    }
    if (u.op == Op::LogicalNot)
      return Type::uint64();
    return Type::integer(8, t.is_signed); // -(uint64)3 stays unsigned
  }

  bool expect_args(ast::Call &c, size_t min, size_t max) {
    if (c.args.size() >= min && c.args.size() <= max)
      return true;
    std::string want = min == max ? std::to_string(min)
                                  : std::to_string(min) + " to " + std::to_string(max);
    error(c.range, c.name + "() takes " + want + " argument" +
                       (max == 1 ? "" : "s") + ", " + std::to_string(c.args.size()) +
                       " given");
    return false;
  }

  ast::Map *expect_map_arg(ast::Call &c, size_t index, bool allow_keys) {
    auto *map = index < c.args.size() ? c.args[index]->as<ast::Map>() : nullptr;
    if (!map || (!allow_keys && !map->keys.empty())) {
      error(index < c.args.size() ? c.args[index]->range : c.range,
            c.name + "() expects a map" + (allow_keys ? "" : " without keys") +
                ", e.g. " + c.name + "(@x)");
      return nullptr;
    }
    if (!maps_.count(map->name) || !maps_[map->name].value_known) {
      error(map->range, "map " + map->name + " is never assigned");
      return nullptr;
    }
    return map;
  }

  Type infer_call(ast::Call &c) {
    const std::string &n = c.name;
    if (is_aggregation(n)) {
      error(c.name_range, n + "() must be assigned to a map")
          .hint("e.g. @x = " + n + "(...)");
      return Type::none();
    }
    if (n == "printf")
      return check_printf(c);
    if (n == "exit") {
      expect_args(c, 0, 0);
      return Type::none();
    }
    if (n == "str")
      return check_str(c);
    if (n == "print") {
      if (!expect_args(c, 1, 3))
        return Type::none();
      if (c.args[0]->as<ast::Map>() && c.args[0]->as<ast::Map>()->keys.empty()) {
        expect_map_arg(c, 0, false);
      } else {
        if (c.args.size() > 1)
          error(c.range, "print() of a value takes one argument");
        Type t = check(*c.args[0]);
        if (t.is_none() || t.kind == TypeKind::Pointer)
          error(c.args[0]->range, "cannot print a value of type " + t.name());
      }
      for (size_t i = 1; i < c.args.size(); ++i)
        if (!check(*c.args[i]).is_integer())
          error(c.args[i]->range, "print() top and div must be integers");
      return Type::none();
    }
    if (n == "clear" || n == "zero") {
      if (expect_args(c, 1, 1))
        expect_map_arg(c, 0, false);
      return Type::none();
    }
    if (n == "len") {
      if (expect_args(c, 1, 1))
        expect_map_arg(c, 0, false);
      return Type::uint64();
    }
    if (n == "delete") {
      if (!expect_args(c, 1, 2))
        return Type::none();
      if (auto *map = expect_map_arg(c, 0, c.args.size() == 1)) {
        auto &state = map_state(*map);
        if (c.args.size() == 2) {
          // delete(@m, key): check the key as if written @m[key].
          map->keys.push_back(std::move(c.args[1]));
          c.args.pop_back();
        }
        if (map->keys.empty() && !state.desc.key.is_none())
          error(map->range, "delete() needs a key for map " + map->name);
        check_map_key(*map, state);
      }
      return Type::none();
    }
    if (n == "symbolic")
      return check_symbolic(c);
    if (n == "ksym" || n == "usym") {
      if (expect_args(c, 1, 1))
        expect_integer(*c.args[0], n + "() needs an address");
      return n == "ksym" ? Type::of_kind(TypeKind::Ksym, 8)
                         : Type::of_kind(TypeKind::Usym, kUsymSize);
    }
    if (n == "kaddr")
      return check_kaddr(c);
    if (n == "buf")
      return check_buf(c);
    if (n == "bswap") {
      // bpftrace: the bytes of the argument's own width, as unsigned.
      if (!expect_args(c, 1, 1) ||
          !expect_integer(*c.args[0], "bswap() needs an integer"))
        return Type::none();
      uint32_t size = c.args[0]->type.size;
      if (auto *v = c.args[0]->as<ast::Variable>())
        if (auto it = var_int_sizes_.find(v->name); it != var_int_sizes_.end())
          size = it->second;
      return Type::integer(size, false);
    }
    if (n == "kstack" || n == "ustack")
      return check_stack(c);
    if (n == "time") {
      if (expect_args(c, 0, 1) && c.args.size() == 1)
        expect_string_literal(c, 0, "time()");
      return Type::none();
    }
    if (n == "strftime")
      return check_strftime(c);
    if (n == "ntop")
      return check_ntop(c);
    if (n == "join")
      return check_join(c);
    if (n == "cat")
      return check_format(c);
    auto &d = error(c.name_range, "unknown function '" + n + "'");
    std::string guess = closest_match(n, function_names());
    if (!guess.empty())
      d.hint("did you mean '" + guess + "'?");
    for (auto &arg : c.args)
      check(*arg);
    return Type::none();
  }

  // ------------------------------------------------------------ functions

  bool expect_integer(ast::Expr &arg, const std::string &message) {
    Type t = check(arg);
    if (t.is_integer())
      return true;
    if (!t.is_none())
      error(arg.range, message + ", not " + t.name());
    return false;
  }

  const ast::StringLit *expect_string_literal(ast::Call &c, size_t index,
                                              const std::string &what) {
    auto *lit = c.args[index]->as<ast::StringLit>();
    if (!lit) {
      check(*c.args[index]);
      error(c.args[index]->range, what + " needs a string literal here");
      return nullptr;
    }
    check(*c.args[index]);
    return lit;
  }

  // str(ptr [, n]): at most n characters, and at most max_strlen bytes
  // with the NUL. str($N) is the parameter's text.
  Type check_str(ast::Call &c) {
    if (!expect_args(c, 1, 2))
      return Type::none();
    uint32_t bytes = result_.options.string_size;
    if (c.args.size() == 2) {
      check(*c.args[1]);
      auto *len = c.args[1]->as<ast::IntegerLit>();
      // Only a cap: max_strlen still bounds the buffer.
      if (!len || len->value == 0 || len->value > 1024) {
        error(c.args[1]->range,
              "str() length must be a constant from 1 to 1024");
        return Type::none();
      }
      bytes = std::min<uint64_t>(bytes, len->value + 1);
    }
    if (auto *p = c.args[0]->as<ast::Positional>(); p && !p->is_count)
      return positional_string(*p, bytes);
    Type t = check(*c.args[0]);
    if (t.is_string())
      return Type::string(std::min(t.size, bytes));
    if (t.is_none())
      return t;
    if (!t.is_integer()) {
      error(c.args[0]->range,
            "str() needs a pointer or a string, not " + t.name());
      return Type::none();
    }
    return Type::string(bytes);
  }

  // kaddr("symbol"): resolved now, from this kernel's /proc/kallsyms.
  Type check_kaddr(ast::Call &c) {
    if (!expect_args(c, 1, 1))
      return Type::none();
    auto *name = expect_string_literal(c, 0, "kaddr()");
    if (!name)
      return Type::none();
    if (!symbolizer::kernel_address(name->value)) {
      error(c.args[0]->range, "kaddr(): no kernel symbol '" + name->value + "'")
          .hint("/proc/kallsyms lists this kernel's symbols");
      return Type::none();
    }
    return Type::uint64();
  }

  // kstack / kstack(limit) / kstack(mode) / kstack(mode, limit); likewise
  // ustack. The mode is a bare word: bpftrace, perf or raw.
  Type check_stack(ast::Call &c) {
    if (!expect_args(c, 0, 2))
      return Type::none();
    for (size_t i = 0; i < c.args.size(); ++i) {
      auto &arg = *c.args[i];
      if (auto *word = arg.as<ast::Builtin>(); word && i == 0) {
        if (!stack_mode_named(word->name)) {
          auto &d = error(arg.range, "unknown stack mode '" + word->name + "'");
          std::string guess = closest_match(word->name, stack_mode_names());
          if (!guess.empty())
            d.hint("did you mean '" + guess + "'?");
          d.hint("stack modes are bpftrace, perf and raw");
          return Type::none();
        }
        continue;
      }
      auto *limit = arg.as<ast::IntegerLit>();
      uint32_t max = max_stack_limit();
      if (!limit || limit->value < 1 || limit->value > max) {
        check(arg);
        error(arg.range, c.name +
                             "() takes a stack mode (bpftrace, perf, "
                             "raw) and a constant frame limit from 1 to " +
                             std::to_string(max));
        return Type::none();
      }
      check(arg);
    }
    return c.name == "kstack" ? Type::of_kind(TypeKind::KStack, kKStackSize)
                              : Type::of_kind(TypeKind::UStack, kUStackSize);
  }

  // The deepest stack the kernel records (perf_event_max_stack).
  static uint32_t max_stack_limit() {
    static const uint32_t max = [] {
      FILE *f = fopen("/proc/sys/kernel/perf_event_max_stack", "r");
      unsigned value = 0;
      if (f) {
        if (fscanf(f, "%u", &value) != 1)
          value = 0;
        fclose(f);
      }
      return value ? value : kDefaultStackLimit;
    }();
    return max;
  }

  // strftime("fmt", nsecs): printed as local time when output is written.
  Type check_strftime(ast::Call &c) {
    if (!expect_args(c, 2, 2))
      return Type::none();
    auto *format = expect_string_literal(c, 0, "strftime()");
    bool ok = expect_integer(*c.args[1], "strftime() needs nanoseconds");
    if (!format || !ok)
      return Type::none();
    Type format_type = Type::string(format->value.size() + 1);
    return Type::of_kind(TypeKind::Timestamp, 8 + format_type.size);
  }

  // ntop([family,] address): an IPv4 address in an integer, or the 4 or 16
  // bytes of a tracepoint array field.
  Type check_ntop(ast::Call &c) {
    if (!expect_args(c, 1, 2))
      return Type::none();
    bool ok = true;
    if (c.args.size() == 2)
      ok = expect_integer(*c.args[0], "ntop() needs an address family");
    auto &address = *c.args.back();
    if (auto array = check_byte_array(address)) {
      if (array->size != 4 && array->size != 16) {
        if (array->field)
          error(address.range, "ntop() needs a 4 or 16 byte address, but "
                               "field '" +
                                   array->field->name + "' is " +
                                   std::to_string(array->size) + " bytes");
        else
          error(address.range, "ntop() needs a 4 or 16 byte address, not a " +
                                   std::to_string(array->size) + " byte array");
        return Type::none();
      }
    } else {
      const Type &t = address.type;
      if (!t.is_integer() && !t.is_none()) {
        error(address.range,
              "ntop() needs an integer or a 4 or 16 byte array, not " +
                  t.name());
        return Type::none();
      }
      ok = ok && t.is_integer();
    }
    return ok ? Type::of_kind(TypeKind::Inet, kInetSize) : Type::none();
  }

  struct ByteArray {
    uint64_t size;
    const TracepointField *field; // null: a kernel array
  };

  // A byte array argument of ntop() or buf(): a tracepoint array field or
  // a kernel struct's array member, marked for codegen's copy_byte_array()
  // (a field gets no type, a kernel array a Pointer type of its size).
  // nullopt, with `e` checked, for anything else.
  std::optional<ByteArray> check_byte_array(ast::Expr &e) {
    if (const TracepointField *field = array_field(e)) {
      e.type = Type::none();
      return ByteArray{field->size, field};
    }
    kernel_object_ = &e;
    check(e);
    if (!kernel_array(e.ktype))
      return std::nullopt;
    uint64_t size = btf::Btf::vmlinux()->size_of(e.ktype.btf_id);
    e.type = Type::of_kind(TypeKind::Pointer, size);
    return ByteArray{size, nullptr};
  }

  // buf(addr, length) / buf(array): up to max_strlen bytes, with their
  // length, printed by printf's %r as bpftrace does. A constant length
  // sizes the buffer; any other is capped at max_strlen when it runs.
  Type check_buf(ast::Call &c) {
    if (!expect_args(c, 1, 2))
      return Type::none();
    auto &data = *c.args[0];
    uint64_t capacity = result_.options.string_size;
    uint64_t wanted = capacity;
    if (c.args.size() == 1) {
      auto array = check_byte_array(data);
      if (!array) {
        if (!data.type.is_none())
          error(data.range, "buf() needs a length unless its argument is an "
                            "array, not " +
                                data.type.name())
              .hint("e.g. buf(arg1, 16) for 16 bytes at arg1");
        return Type::none();
      }
      wanted = array->size;
    } else {
      bool ok = expect_integer(data, "buf() needs an address");
      ok = expect_integer(*c.args[1], "buf() needs a length") && ok;
      if (!ok)
        return Type::none();
      if (auto *len = c.args[1]->as<ast::IntegerLit>()) {
        if (len->value == 0 || len->value > (uint64_t{1} << 31)) {
          error(c.args[1]->range, "buf() length must be at least 1");
          return Type::none();
        }
        wanted = len->value;
      }
    }
    if (wanted > capacity && final_)
      diags_
          .warning(c.range, "buf() length is too long and will be "
                            "shortened to " +
                                std::to_string(capacity) + " bytes")
          .hint("raise max_strlen (BPFTRACE_STRLEN) for longer buffers");
    uint32_t bytes = static_cast<uint32_t>(std::min(wanted, capacity));
    return Type::of_kind(TypeKind::Buffer, kBufferHeader + (bytes + 7) / 8 * 8);
  }

  // `args->field` when the field is an array of the same field in every
  // tracepoint of the probe: its raw bytes, for ntop().
  const TracepointField *array_field(const ast::Expr &e) {
    auto *f = e.as<ast::Field>();
    auto *object = f ? f->object->as<ast::Builtin>() : nullptr;
    if (!object || object->name != "args" || probe_->points.empty())
      return nullptr;
    const TracepointField *found = nullptr;
    for (const auto &point : probe_->points) {
      const TracepointField *field =
          point.format ? point.format->find(f->field) : nullptr;
      if (!field || field->c_type.find('[') == std::string::npos ||
          field->data_loc ||
          (found &&
           (found->offset != field->offset || found->size != field->size)))
        return nullptr;
      found = field;
    }
    return found;
  }

  // join(argv [, "delimiter"]): prints the strings of a NULL-terminated
  // array of string pointers.
  Type check_join(ast::Call &c) {
    if (!expect_args(c, 1, 2))
      return Type::none();
    expect_integer(*c.args[0], "join() needs an array of string pointers");
    if (c.args.size() == 2)
      expect_string_literal(c, 1, "join()");
    return Type::none();
  }

  // symbolic(args.FIELD): the field named with the kernel's own table from
  // each tracepoint's print format (passes/print_fmt.h).
  Type check_symbolic(ast::Call &c) {
    if (!expect_args(c, 1, 1))
      return Type::none();
    auto *field = c.args[0]->as<ast::Field>();
    auto *object = field ? field->object->as<ast::Builtin>() : nullptr;
    if (!object || object->name != "args") {
      check(*c.args[0]);
      error(c.args[0]->range, "symbolic() needs a tracepoint field")
          .hint("e.g. symbolic(args.exit_reason) in tracepoint:kvm:kvm_exit");
      return Type::none();
    }
    Type t = check(*c.args[0]);
    if (t.is_none())
      return t; // the field itself was reported
    if (!t.is_integer()) {
      error(c.args[0]->range,
            "symbolic() needs an integer field, not " + t.name());
      return Type::none();
    }
    // One table and mask for every attach point: the value is stored as the
    // record holds it (printfmt::SymbolicSpec::stored_field).
    std::optional<std::pair<uint32_t, uint64_t>> stored;
    bool encoded = false;
    for (const auto &point : probe_->points) {
      if (!point.format) {
        error(c.args[0]->range, "symbolic() needs a tracepoint field, but " +
                                    point.desc.display +
                                    " is not a tracepoint");
        return Type::none();
      }
      std::string why;
      if (const auto *spec =
              result_.symbolic->resolve(*point.format, field->field, why)) {
        if (final_ && !spec->skipped.empty())
          diags_.warning(c.args[0]->range,
                         std::to_string(spec->skipped.size()) +
                             " values in the kernel's names for field '" +
                             field->field + "' of " + point.desc.target +
                             " are names the kernel did not replace with "
                             "numbers (" +
                             spec->skipped[0] +
                             (spec->skipped.size() > 1 ? ", ..." : "") +
                             "); hvt prints those values as numbers");
        std::pair<uint32_t, uint64_t> form{spec->root->table_id,
                                           spec->stored_mask};
        if (!spec->stored_field || (stored && *stored != form))
          encoded = true;
        stored = form;
        continue;
      }
      auto &d = error(c.args[0]->range, why);
      auto named = printfmt::symbolic_fields(*point.format,
                                             result_.symbolic->functions());
      std::string list;
      for (const auto &name : named)
        list += (list.empty() ? "" : ", ") + name;
      if (!named.empty())
        d.hint("fields it names: " + list);
      return Type::none();
    }
    if (encoded || !stored)
      return Type::symbolic(result_.symbolic->tables());
    return Type::symbolic(result_.symbolic->tables(), stored->first,
                          stored->second);
  }

  Type check_printf(ast::Call &c) { return check_format(c); }

  // printf("format", args...) and cat("format", args...).
  Type check_format(ast::Call &c) {
    if (c.args.empty() || !c.args[0]->as<ast::StringLit>()) {
      error(c.range,
            c.name + "() needs a format string literal as first argument");
      for (auto &arg : c.args)
        check(*arg);
      return Type::none();
    }
    const std::string &fmt = c.args[0]->as<ast::StringLit>()->value;
    std::vector<char> conversions;
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt[i] != '%')
        continue;
      if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < fmt.size() && strchr("-+ #0123456789.hlzjt", fmt[j]))
        ++j;
      if (j >= fmt.size() || !strchr("diuxXoscpr", fmt[j])) {
        error(c.args[0]->range, c.name + "(): invalid conversion '" +
                                    fmt.substr(i, j - i + 1) + "' in format")
            .hint("supported: %d %i %u %x %X %o %s %c %p %r %%");
        return Type::none();
      }
      conversions.push_back(fmt[j]);
      i = j;
    }
    size_t given = c.args.size() - 1;
    if (given != conversions.size()) {
      error(c.range, c.name + "(): the format has " +
                         std::to_string(conversions.size()) + " conversion" +
                         (conversions.size() == 1 ? "" : "s") + " but " +
                         std::to_string(given) + " argument" +
                         (given == 1 ? " is" : "s are") + " given");
      return Type::none();
    }
    for (size_t i = 0; i < conversions.size(); ++i) {
      auto &arg = *c.args[i + 1];
      Type t = check(arg);
      if (t.is_none())
        continue;
      char conv = conversions[i];
      bool want_string = conv == 's';
      bool buffer = t.kind == TypeKind::Buffer;
      if (conv == 'r' || buffer) {
        // As in bpftrace: %r is for buf() values, and only %r.
        if (conv != 'r' || !buffer)
          error(arg.range, c.name + "(): %" + conv +
                               (conv == 'r' ? " expects a buf() value, but the "
                                              "argument is "
                                            : " cannot print a buffer; ") +
                               (conv == 'r' ? t.name() : "use %r"));
        continue;
      }
      if (want_string && t.kind == TypeKind::Pointer)
        error(arg.range,
              c.name + "(): cannot print a value of type " + t.name());
      if (!want_string && !t.is_integer())
        error(arg.range, c.name + "(): %" + conv +
                             " expects an integer, but the argument is " +
                             t.name())
            .hint("use %s for strings and other values");
    }
    return Type::none();
  }

  Diagnostics &diags_;
  // The expression check() must not report for having no value (the
  // statement itself, or one whose caller words that error).
  const ast::Expr *exempt_ = nullptr;
  // The object of `.`, `[]` or ntop(), which may be an embedded struct or
  // array (check() rejects those anywhere else).
  const ast::Expr *kernel_object_ = nullptr;
  SemanticResult &result_;
  Diagnostic scratch_;
  bool final_ = false;
  int loop_depth_ = 0;
  ProbeInfo *probe_ = nullptr;
  std::map<std::string, ast::KernelType> var_ktypes_; // of this probe
  // The width of the integer a variable was first assigned, before it was
  // widened to 64 bits: bswap() swaps that many bytes, as in bpftrace.
  std::map<std::string, uint32_t> var_int_sizes_;
  std::map<std::string, MapState> maps_;
  std::set<std::string> declared_;
  std::map<std::string, SourceRange> declared_ranges_;
};

} // namespace

StackSpec stack_spec(const ast::Call *call, const SemanticOptions &options) {
  StackSpec spec;
  spec.mode = options.stack_mode;
  if (!call)
    return spec;
  for (const auto &arg : call->args) {
    if (auto *word = arg->as<ast::Builtin>()) {
      if (auto mode = stack_mode_named(word->name))
        spec.mode = *mode;
    } else if (auto *limit = arg->as<ast::IntegerLit>()) {
      spec.limit = static_cast<uint32_t>(limit->value);
    }
  }
  return spec;
}

void check_types(ast::Program &program, Diagnostics &diags,
                 SemanticResult &result) {
  TypeChecker(diags, result).run(program);
}

} // namespace hvt
