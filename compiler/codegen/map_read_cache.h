// One map lookup per value, not one per read: within a probe, a read of
// @m[key] reuses the value an earlier read of the same map and key produced,
// as long as nothing in between may have written @m and the earlier read
// dominates the later one. `/@start[tid]/ { ... nsecs - @start[tid] ... }`
// then costs one hash lookup instead of two (docs/performance.md).
//
// Which reads may share a value is decided on the AST alone:
//  - the key must be "stable": literals, $1..$N, and builtins that cannot
//    change while one program runs (tid, pid, cpu, comm, args fields ...);
//  - a statement that writes a map (assignment, aggregation, ++/--,
//    delete/clear/zero, any call that is handed the map) drops the map's
//    values before and after it, and its own reads of that map are not
//    shared;
//  - values read inside a branch (if/else, ?:, the right side of && and ||,
//    loop bodies, any statement with a body) are forgotten when the branch
//    ends, so a value is only reused where its read dominates.
// Only plain (non-aggregated) values are shared: integers, and copies of
// tuples and strings in buffers that live for the whole program. Unknown
// statement kinds forget everything.
#pragma once

#include "frontend/ast.h"

#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace llvm {
class Value;
class Function;
} // namespace llvm

namespace hvt {

class MapReadCache {
public:
  using Entries = std::map<std::string, std::pair<std::string, llvm::Value *>>;

  // Forgets everything: call when code generation moves to another function.
  void reset() {
    entries_.clear();
    no_share_.clear();
    no_share_all_ = false;
  }

  // The value an earlier read of `map` produced, or null.
  llvm::Value *find(const ast::Map &map) const {
    std::string id = fingerprint(map);
    if (id.empty())
      return nullptr;
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : it->second.second;
  }

  // Whether insert() would record a value read from `map` now.
  bool would_share(const ast::Map &map) const {
    return !no_share_all_ && !no_share_.count(map.name) &&
           !fingerprint(map).empty();
  }
  // Records the value a read of `map` produced (ignored when the key is not
  // stable or the map is written by the statement being generated).
  void insert(const ast::Map &map, llvm::Value *value) {
    std::string id = fingerprint(map);
    if (id.empty() || no_share_all_ || no_share_.count(map.name))
      return;
    entries_[id] = {map.name, value};
  }

  // For the duration of one statement (RAII).
  class Statement {
  public:
    Statement(MapReadCache &cache, const ast::Stmt &stmt)
        : cache_(cache), no_share_before_(cache.no_share_),
          no_share_all_before_(cache.no_share_all_) {
      writes_all_ = !written_maps(stmt, written_);
      simple_ = stmt.kind == ast::StmtKind::Expr ||
                stmt.kind == ast::StmtKind::AssignMap ||
                stmt.kind == ast::StmtKind::AssignVar;
      forget_writes();
      before_ = cache.entries_;
      if (writes_all_)
        cache.no_share_all_ = true;
      cache.no_share_.insert(written_.begin(), written_.end());
    }
    ~Statement() {
      // Reads inside a statement with a body may not dominate what follows.
      if (!simple_)
        cache_.entries_ = before_;
      forget_writes();
      cache_.no_share_ = no_share_before_;
      cache_.no_share_all_ = no_share_all_before_;
    }
    // A predicate: an expression evaluated before the body.
    Statement(MapReadCache &cache, const ast::Expr &predicate)
        : cache_(cache), no_share_before_(cache.no_share_),
          no_share_all_before_(cache.no_share_all_) {
      writes_all_ = !written_maps(predicate, written_);
      forget_writes();
      before_ = cache.entries_;
      if (writes_all_)
        cache.no_share_all_ = true;
      cache.no_share_.insert(written_.begin(), written_.end());
    }
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

  private:
    void forget_writes() {
      if (writes_all_) {
        cache_.entries_.clear();
        return;
      }
      for (auto it = cache_.entries_.begin(); it != cache_.entries_.end();)
        it = written_.count(it->second.first) ? cache_.entries_.erase(it)
                                              : std::next(it);
    }

    MapReadCache &cache_;
    std::set<std::string> written_;
    bool writes_all_ = false;
    bool simple_ = true;
    Entries before_;
    std::set<std::string> no_share_before_;
    bool no_share_all_before_ = false;
  };

  // For a branch: values read inside are forgotten when it ends (RAII).
  // `restart()` forgets them early (between `then` and `else`).
  class Branch {
  public:
    explicit Branch(MapReadCache &cache)
        : cache_(cache), saved_(cache.entries_) {}
    ~Branch() { restart(); }
    void restart() { cache_.entries_ = saved_; }
    Branch(const Branch &) = delete;
    Branch &operator=(const Branch &) = delete;

  private:
    MapReadCache &cache_;
    Entries saved_;
  };

  // The identity of a read of `map` with a stable key, or "" when its key
  // may change while the program runs. Exposed for tests.
  static std::string fingerprint(const ast::Map &map) {
    std::string id = map.name + "[";
    for (const auto &key : map.keys) {
      if (!stable(*key, id))
        return "";
      id += ",";
    }
    return id + "]";
  }

  // Collects the maps `stmt` may write; false when it may write any map.
  static bool written_maps(const ast::Stmt &stmt, std::set<std::string> &out) {
    switch (stmt.kind) {
    case ast::StmtKind::Expr:
      return written_maps(*stmt.as<ast::ExprStmt>()->expr, out);
    case ast::StmtKind::AssignMap: {
      auto &s = *stmt.as<ast::AssignMap>();
      out.insert(s.map->name);
      return written_maps(*s.map, out) && written_maps(*s.value, out);
    }
    case ast::StmtKind::AssignVar:
      return written_maps(*stmt.as<ast::AssignVar>()->value, out);
    case ast::StmtKind::If: {
      auto &s = *stmt.as<ast::If>();
      return written_maps(*s.cond, out) && written_maps(s.then_body, out) &&
             written_maps(s.else_body, out);
    }
    case ast::StmtKind::Unroll:
      return written_maps(stmt.as<ast::Unroll>()->body, out);
    case ast::StmtKind::While: {
      auto &s = *stmt.as<ast::While>();
      return written_maps(*s.cond, out) && written_maps(s.body, out);
    }
    case ast::StmtKind::Jump:
      return true;
    case ast::StmtKind::Block:
      return written_maps(stmt.as<ast::BlockStmt>()->body, out);
    }
    return false; // a statement this analysis does not know
  }

private:
  static bool written_maps(const ast::StmtList &list,
                           std::set<std::string> &out) {
    for (const auto &stmt : list)
      if (!written_maps(*stmt, out))
        return false;
    return true;
  }

  // Functions that only read the maps they are handed. Any other function
  // given a map may write it.
  static bool reads_only(const std::string &function) {
    static const std::set<std::string> names = {
        "printf", "print", "len",  "str",  "ksym",
        "usym",   "kaddr", "ntop", "join", "has_key"};
    return names.count(function) > 0;
  }

  static bool written_maps(const ast::Expr &e, std::set<std::string> &out) {
    if (const auto *c = e.as<ast::Call>(); c && !reads_only(c->name))
      for (const auto &arg : c->args)
        if (const auto *map = arg->as<ast::Map>())
          out.insert(map->name);
    if (const auto *u = e.as<ast::Unary>())
      if (const auto *map = u->operand->as<ast::Map>();
          map && u->op != ast::UnaryOp::Neg &&
          u->op != ast::UnaryOp::LogicalNot && u->op != ast::UnaryOp::BitNot &&
          u->op != ast::UnaryOp::Deref)
        out.insert(map->name); // ++ and --
    bool known = true;
    ast::for_each_child(e, [&](const ast::ExprPtr &child) {
      known = known && written_maps(*child, out);
    });
    return known;
  }

  // Appends the identity of `e` to `id`; false when `e` may change while
  // one program runs (time, randomness, memory, maps, variables).
  static bool stable(const ast::Expr &e, std::string &id) {
    switch (e.kind) {
    case ast::ExprKind::Integer:
      id += "i" + std::to_string(e.as<ast::IntegerLit>()->value);
      return true;
    case ast::ExprKind::String: {
      const std::string &text = e.as<ast::StringLit>()->value;
      id += "s" + std::to_string(text.size()) + ":" + text;
      return true;
    }
    case ast::ExprKind::Positional: {
      auto &p = *e.as<ast::Positional>();
      id += p.is_count ? "$#" : "$" + std::to_string(p.index);
      return true;
    }
    case ast::ExprKind::Builtin: {
      static const std::set<std::string> fixed = {
          "pid",    "tid",     "uid",   "gid",  "cpu",    "comm",
          "cgroup", "curtask", "probe", "func", "retval", "args",
          "cpid",   "arg0",    "arg1",  "arg2", "arg3",   "arg4",
          "arg5",   "arg6",    "arg7",  "arg8", "arg9"};
      const std::string &name = e.as<ast::Builtin>()->name;
      id += "b" + name;
      return fixed.count(name) > 0;
    }
    case ast::ExprKind::Field: {
      auto &f = *e.as<ast::Field>();
      auto *object = f.object->as<ast::Builtin>();
      // Tracepoint record fields: the record does not change.
      if (!object || object->name != "args")
        return false;
      id += "f" + f.field;
      return true;
    }
    case ast::ExprKind::Cast: {
      auto &c = *e.as<ast::Cast>();
      id += "(" + c.type_name + ")";
      return stable(*c.operand, id);
    }
    case ast::ExprKind::Binary: {
      auto &b = *e.as<ast::Binary>();
      id += "(" + std::string(ast::binary_op_spelling(b.op));
      bool ok = stable(*b.lhs, id);
      id += " ";
      ok = ok && stable(*b.rhs, id);
      id += ")";
      return ok;
    }
    case ast::ExprKind::Unary: {
      auto &u = *e.as<ast::Unary>();
      if (u.op != ast::UnaryOp::Neg && u.op != ast::UnaryOp::LogicalNot &&
          u.op != ast::UnaryOp::BitNot)
        return false;
      id += "(" + std::string(ast::unary_op_spelling(u.op));
      bool ok = stable(*u.operand, id);
      id += ")";
      return ok;
    }
    case ast::ExprKind::Tuple: {
      id += "(";
      for (const auto &element : e.as<ast::TupleExpr>()->elements) {
        if (!stable(*element, id))
          return false;
        id += ",";
      }
      id += ")";
      return true;
    }
    default:
      return false;
    }
  }

  Entries entries_;                // identity -> (map name, value)
  std::set<std::string> no_share_; // maps written by the statements open now
  bool no_share_all_ = false;
};

} // namespace hvt
