// BEGIN tables (see initial_entries.h). The analysis looks at BEGIN's
// top-level statements in order and keeps, per map, whether a statement
// that stays in the program has mentioned it: from then on the map's
// assignments stay too, so every read and write of the map sees the same
// entries, in the same order, as when BEGIN did all the work.
#include "passes/initial_entries.h"

#include <cstring>
#include <set>
#include <string>

namespace hvt {

namespace {

// A literal's value as codegen computes it: integers as 64-bit two's
// complement (negative numbers are a Neg of a literal), strings as text.
struct Literal {
  bool is_string = false;
  uint64_t integer = 0;
  const std::string *text = nullptr;
  uint32_t size = 0; // the expression type's size (strings: with the NUL)
};

std::optional<Literal> literal_of(const ast::Expr &e) {
  if (const auto *i = e.as<ast::IntegerLit>())
    return Literal{false, i->value, nullptr, e.type.size};
  if (const auto *s = e.as<ast::StringLit>())
    return Literal{true, 0, &s->value, e.type.size};
  if (const auto *u = e.as<ast::Unary>(); u && u->op == ast::UnaryOp::Neg)
    if (const auto *i = u->operand->as<ast::IntegerLit>())
      return Literal{false, 0 - i->value, nullptr, e.type.size};
  return std::nullopt;
}

// Writes `e` into `out` (a slot of type `to`); false if it is not a
// literal of `to`'s kind.
bool store_literal(const ast::Expr &e, const Type &to, uint8_t *out) {
  std::optional<Literal> lit = literal_of(e);
  if (!lit || lit->is_string != to.is_string() ||
      (!lit->is_string && !to.is_integer()) || to.size > 8 * 1024)
    return false;
  if (!lit->is_string) {
    if (!e.type.is_integer() || to.size > 8)
      return false;
    for (uint32_t i = 0; i < to.size; ++i) // little-endian, truncated
      out[i] = static_cast<uint8_t>(lit->integer >> (8 * i));
    return true;
  }
  // A copy of min(to, from) bytes of the NUL-padded constant.
  uint32_t copy = std::min(to.size, lit->size);
  size_t text = std::min<size_t>(copy, lit->text->size());
  memcpy(out, lit->text->data(), text);
  return true;
}

// Appends the BPF key of `map` to `out`, as codegen's build_key() lays it
// out; false if a key is not a literal.
bool append_key(const ast::Map &map, const MapDesc &desc,
                std::vector<uint8_t> &out) {
  size_t at = out.size();
  out.resize(at + desc.bpf_key_size(), 0);
  uint8_t *key = out.data() + at;
  bool ok = true;
  if (desc.key.is_none())
    ok = map.keys.empty(); // scalar map: key 0
  else if (map.keys.size() == 1 && !desc.key.is_tuple())
    ok = store_literal(*map.keys[0], desc.key, key);
  else if (desc.key.is_tuple() && map.keys.size() > 1 &&
           map.keys.size() == desc.key.fields.size())
    for (size_t i = 0; ok && i < map.keys.size(); ++i)
      ok = store_literal(*map.keys[i], desc.key.fields[i],
                         key + desc.key.offsets[i]);
  else
    ok = false;
  if (!ok)
    out.resize(at);
  return ok;
}

// --- which maps a statement mentions, and whether it may return ---------

struct Mentions {
  std::set<std::string> maps;
  bool returns = false;
};

void scan(const ast::Expr &e, Mentions &m);

void scan(const ast::StmtList &list, Mentions &m);

void scan(const ast::Stmt &stmt, Mentions &m) {
  switch (stmt.kind) {
  case ast::StmtKind::Expr:
    scan(*stmt.as<ast::ExprStmt>()->expr, m);
    return;
  case ast::StmtKind::AssignMap: {
    auto &s = *stmt.as<ast::AssignMap>();
    scan(*s.map, m);
    scan(*s.value, m);
    return;
  }
  case ast::StmtKind::AssignVar:
    scan(*stmt.as<ast::AssignVar>()->value, m);
    return;
  case ast::StmtKind::If: {
    auto &s = *stmt.as<ast::If>();
    scan(*s.cond, m);
    scan(s.then_body, m);
    scan(s.else_body, m);
    return;
  }
  case ast::StmtKind::Unroll:
    scan(stmt.as<ast::Unroll>()->body, m);
    return;
  case ast::StmtKind::While: {
    auto &s = *stmt.as<ast::While>();
    scan(*s.cond, m);
    scan(s.body, m);
    return;
  }
  case ast::StmtKind::Jump:
    // break and continue stay inside their loop; return ends BEGIN.
    m.returns =
        m.returns || stmt.as<ast::Jump>()->jump == ast::JumpKind::Return;
    return;
  case ast::StmtKind::Block:
    scan(stmt.as<ast::BlockStmt>()->body, m);
    return;
  }
  m.returns = true; // a statement this pass does not know: keep everything
}

void scan(const ast::StmtList &list, Mentions &m) {
  for (const auto &stmt : list)
    scan(*stmt, m);
}

void scan(const ast::Expr &e, Mentions &m) {
  if (const auto *map = e.as<ast::Map>())
    m.maps.insert(map->name);
  // exit() ends the probe, as in bpftrace.
  if (const auto *call = e.as<ast::Call>())
    m.returns = m.returns || call->name == "exit";
  ast::for_each_child(e, [&](const ast::ExprPtr &child) { scan(*child, m); });
}

// The one probe whose only attach point is the program's only BEGIN, or
// null.
const ast::Probe *begin_probe(const ast::Program &program,
                              const SemanticResult &result) {
  const ast::Probe *found = nullptr;
  size_t begins = 0;
  for (size_t p = 0; p < result.probes.size() && p < program.probes.size();
       ++p) {
    const auto &points = result.probes[p].points;
    for (const auto &point : points)
      if (point.desc.kind == ProbeKind::Begin) {
        ++begins;
        if (points.size() == 1 && !program.probes[p].predicate)
          found = &program.probes[p];
      }
  }
  return begins == 1 ? found : nullptr;
}

// What the statement's buffers would take on the BPF stack at most: the
// key, the value and the string constants copied into them. A statement
// that could not be compiled (more than BPF's 512 bytes) stays in BEGIN so
// that it is reported as before, not quietly accepted.
constexpr uint64_t kBpfStack = 512; // MAX_BPF_STACK
bool fits_the_stack(const ast::AssignMap &s, const MapDesc &desc) {
  uint64_t bytes = uint64_t{desc.bpf_key_size()} + desc.bpf_value_size();
  auto add = [&](const ast::Expr &e) {
    if (e.as<ast::StringLit>())
      bytes += e.type.size;
  };
  for (const auto &key : s.map->keys)
    add(*key);
  add(*s.value);
  return bytes <= kBpfStack;
}

// Whether `desc` may start with entries the runtime writes: plain values
// in a (non-per-CPU) hash map, the layout the runtime's update expects.
bool takes_initial_entries(const MapDesc &desc) {
  return desc.agg == AggKind::None && (desc.storage == MapStorage::Hash ||
                                       desc.storage == MapStorage::LruHash);
}

} // namespace

std::optional<std::vector<uint8_t>>
literal_bytes(const ast::Expr &e, const Type &to, uint32_t size) {
  std::vector<uint8_t> out(std::max(size, to.size), 0);
  if (!store_literal(e, to, out.data()))
    return std::nullopt;
  return out;
}

void collect_initial_entries(const ast::Program &program,
                             SemanticResult &result) {
  const ast::Probe *begin = begin_probe(program, result);
  if (!begin)
    return;
  std::set<std::string> kept; // maps a statement that stays mentions
  for (const auto &stmt : begin->body) {
    if (const auto *s = stmt->as<ast::AssignMap>(); s && !s->op.compound) {
      auto index = result.map_index.find(s->map->name);
      if (index != result.map_index.end() && !kept.count(s->map->name)) {
        MapDesc &desc = result.maps[index->second];
        size_t key_bytes = desc.initial_keys.size();
        std::vector<uint8_t> value(desc.bpf_value_size(), 0);
        if (takes_initial_entries(desc) && fits_the_stack(*s, desc) &&
            append_key(*s->map, desc, desc.initial_keys)) {
          if (store_literal(*s->value, desc.value, value.data())) {
            desc.initial_values.insert(desc.initial_values.end(), value.begin(),
                                       value.end());
            result.initial_entry_statements.insert(stmt.get());
            continue;
          }
          desc.initial_keys.resize(key_bytes);
        }
      }
    }
    Mentions mentions;
    scan(*stmt, mentions);
    kept.insert(mentions.maps.begin(), mentions.maps.end());
    if (mentions.returns)
      return; // what follows may not run
  }
}

} // namespace hvt
