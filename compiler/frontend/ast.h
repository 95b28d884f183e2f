// hvt's own syntax tree. The ANTLR parse tree never leaves the AST builder;
// every later pass sees only these nodes. Each node carries the source range
// it was parsed from, and expressions carry the type inferred for them by the
// semantic pass.
#pragma once

#include "frontend/diagnostics.h"
#include "types.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hvt::ast {

struct Node {
  SourceRange range;
  virtual ~Node() = default;
};

// ---------------------------------------------------------------- expressions

enum class ExprKind {
  Integer,    // 42, 0x2a, 1e6
  String,     // "text"
  Builtin,    // pid, comm, args, arg0, retval ...
  Positional, // $1 .. $N, $#
  Variable,   // $x
  Map,        // @x, @x[k], @x[k1, k2], @
  Call,       // count(), printf(...), str(x) ...
  Binary,     // a + b
  Unary,      // -a, !a, ~a, ++a, a--, *a
  Ternary,    // c ? a : b
  Field,      // e.field, e->field
  TupleIndex, // e.0
  Index,      // e[i]
  Cast,       // (uint8)e
  Tuple,      // (a, b)
};

// The kernel (BTF) type of an expression, set by the semantic pass. A
// pointer (`(struct sock *)arg0`, `curtask`) is a uint64 whose pointee is
// `btf_id` behind `pointers` stars; an embedded struct, union or array
// (`$sk->__sk_common`, pointers == 0) has no value of its own: it stands
// for its kernel address, for `.` and `[]` to read from.
struct KernelType {
  uint32_t btf_id = 0; // typedefs and qualifiers skipped; 0: not a kernel type
  uint32_t pointers = 0;
  // A struct looked up in BTF only once a member is read (curtask, args
  // fields): programs that never read one never read BTF.
  std::string later;
  // A tracepoint field's pointer may point to user or kernel memory.
  bool any_space = false;
  bool valid() const { return btf_id != 0 || !later.empty(); }
  bool operator==(const KernelType &) const = default;
};

// How codegen reads a kernel struct member or array element: from the
// object's address plus `offset`, `size` bytes with bpf_probe_read_kernel
// (size 0: no read, the value is the address of an embedded struct or
// array). A bitfield is `bit_size` bits at `bit_offset` in those bytes.
struct KernelRead {
  bool active = false;
  bool any_space = false; // bpf_probe_read: a user or a kernel address
  uint64_t offset = 0;
  uint32_t size = 0;
  uint32_t bit_offset = 0, bit_size = 0;
};

struct Expr : Node {
  explicit Expr(ExprKind k) : kind(k) {}
  const ExprKind kind;
  Type type; // filled in by the semantic pass
  KernelType ktype; // filled in by the semantic pass

  template <typename T> T *as() {
    return kind == T::static_kind ? static_cast<T *>(this) : nullptr;
  }
  template <typename T> const T *as() const {
    return kind == T::static_kind ? static_cast<const T *>(this) : nullptr;
  }
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntegerLit : Expr {
  static constexpr ExprKind static_kind = ExprKind::Integer;
  IntegerLit() : Expr(static_kind) {}
  uint64_t value = 0; // two's complement bits; literals are non-negative
};

struct StringLit : Expr {
  static constexpr ExprKind static_kind = ExprKind::String;
  StringLit() : Expr(static_kind) {}
  std::string value; // escapes decoded
};

struct Builtin : Expr {
  static constexpr ExprKind static_kind = ExprKind::Builtin;
  Builtin() : Expr(static_kind) {}
  std::string name; // "pid", "arg3", "args" ...
  // Not a builtin but an enum constant of the kernel's BTF (semantic pass).
  std::optional<int64_t> kernel_enum;
};

struct Positional : Expr {
  static constexpr ExprKind static_kind = ExprKind::Positional;
  Positional() : Expr(static_kind) {}
  int index = 0;      // $1 -> 1; 0 means `$#` (count)
  bool is_count = false;
};

struct Variable : Expr {
  static constexpr ExprKind static_kind = ExprKind::Variable;
  Variable() : Expr(static_kind) {}
  std::string name; // including '$'
};

struct Map : Expr {
  static constexpr ExprKind static_kind = ExprKind::Map;
  Map() : Expr(static_kind) {}
  std::string name;           // including '@'; "@" for the anonymous map
  std::vector<ExprPtr> keys;  // empty: scalar map
  SourceRange name_range;
};

struct Call : Expr {
  static constexpr ExprKind static_kind = ExprKind::Call;
  Call() : Expr(static_kind) {}
  std::string name;
  std::vector<ExprPtr> args;
  SourceRange name_range;
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Mod,
  BitAnd, BitOr, BitXor, Shl, Shr,
  LogicalAnd, LogicalOr,
  Eq, Ne, Lt, Le, Gt, Ge,
};
const char *binary_op_spelling(BinaryOp op);

struct Binary : Expr {
  static constexpr ExprKind static_kind = ExprKind::Binary;
  Binary() : Expr(static_kind) {}
  BinaryOp op = BinaryOp::Add;
  ExprPtr lhs, rhs;
  // `ptr + n` on a kernel struct pointer: rhs became `n * sizeof(*ptr)`.
  bool pointer_scaled = false;
};

enum class UnaryOp {
  Neg, LogicalNot, BitNot, Deref,
  PreIncrement, PreDecrement, PostIncrement, PostDecrement,
};
const char *unary_op_spelling(UnaryOp op);

struct Unary : Expr {
  static constexpr ExprKind static_kind = ExprKind::Unary;
  Unary() : Expr(static_kind) {}
  UnaryOp op = UnaryOp::Neg;
  ExprPtr operand;
};

struct Ternary : Expr {
  static constexpr ExprKind static_kind = ExprKind::Ternary;
  Ternary() : Expr(static_kind) {}
  ExprPtr cond, then_expr, else_expr;
};

struct Field : Expr {
  static constexpr ExprKind static_kind = ExprKind::Field;
  Field() : Expr(static_kind) {}
  ExprPtr object;
  std::string field;
  bool arrow = false; // `->` rather than `.`
  SourceRange field_range;
  KernelRead read; // a kernel struct member (semantic pass)
};

struct TupleIndex : Expr {
  static constexpr ExprKind static_kind = ExprKind::TupleIndex;
  TupleIndex() : Expr(static_kind) {}
  ExprPtr object;
  uint32_t index = 0;
};

struct Index : Expr {
  static constexpr ExprKind static_kind = ExprKind::Index;
  Index() : Expr(static_kind) {}
  ExprPtr object, index;
  KernelRead read; // an element of a kernel array (semantic pass)
};

struct Cast : Expr {
  static constexpr ExprKind static_kind = ExprKind::Cast;
  Cast() : Expr(static_kind) {}
  std::string type_name; // "uint8", "int32" ..., "struct sock *"
  // `(struct NAME *)`: the struct (or union) and the stars; empty for
  // integer casts.
  std::string struct_name;
  bool is_union = false;
  uint32_t pointers = 0;
  ExprPtr operand;
};

struct TupleExpr : Expr {
  static constexpr ExprKind static_kind = ExprKind::Tuple;
  TupleExpr() : Expr(static_kind) {}
  std::vector<ExprPtr> elements;
};

// ----------------------------------------------------------------- statements

enum class StmtKind {
  Expr,        // printf(...); count(); @x++;
  AssignMap,   // @x[k] = e; @x += e
  AssignVar,   // $x = e; $x <<= e
  If,          // if (c) {...} else if ... else {...}
  Unroll,      // unroll(N) {...}
  While,       // while (c) {...}
  Jump,        // return; break; continue
  Block,       // { ... } (bare nested block)
};

struct Stmt : Node {
  explicit Stmt(StmtKind k) : kind(k) {}
  const StmtKind kind;

  template <typename T> T *as() {
    return kind == T::static_kind ? static_cast<T *>(this) : nullptr;
  }
  template <typename T> const T *as() const {
    return kind == T::static_kind ? static_cast<const T *>(this) : nullptr;
  }
};
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

struct ExprStmt : Stmt {
  static constexpr StmtKind static_kind = StmtKind::Expr;
  ExprStmt() : Stmt(static_kind) {}
  ExprPtr expr;
};

// `=` or a compound operator (`+=` is op = Add).
struct AssignOp {
  bool compound = false;
  BinaryOp op = BinaryOp::Add;
};

struct AssignMap : Stmt {
  static constexpr StmtKind static_kind = StmtKind::AssignMap;
  AssignMap() : Stmt(static_kind) {}
  std::unique_ptr<Map> map;
  AssignOp op;
  ExprPtr value;
};

struct AssignVar : Stmt {
  static constexpr StmtKind static_kind = StmtKind::AssignVar;
  AssignVar() : Stmt(static_kind) {}
  std::unique_ptr<Variable> var;
  AssignOp op;
  ExprPtr value;
};

struct If : Stmt {
  static constexpr StmtKind static_kind = StmtKind::If;
  If() : Stmt(static_kind) {}
  ExprPtr cond;
  StmtList then_body;
  StmtList else_body; // `else if` is an If inside else_body
};

struct Unroll : Stmt {
  static constexpr StmtKind static_kind = StmtKind::Unroll;
  Unroll() : Stmt(static_kind) {}
  ExprPtr count; // must be a constant
  StmtList body;
};

struct While : Stmt {
  static constexpr StmtKind static_kind = StmtKind::While;
  While() : Stmt(static_kind) {}
  ExprPtr cond;
  StmtList body;
};

enum class JumpKind { Return, Break, Continue };

struct Jump : Stmt {
  static constexpr StmtKind static_kind = StmtKind::Jump;
  Jump() : Stmt(static_kind) {}
  JumpKind jump = JumpKind::Return;
};

struct BlockStmt : Stmt {
  static constexpr StmtKind static_kind = StmtKind::Block;
  BlockStmt() : Stmt(static_kind) {}
  StmtList body;
};

// --------------------------------------------------------------- top level

// `kind:target:function+offset` split on ':' as written. The provider name
// is kept as written (aliases such as `t` are resolved by the semantic pass).
struct AttachPoint : Node {
  std::string raw;                // the whole text, e.g. "tracepoint:sched:*"
  std::vector<std::string> parts; // split on ':' ("tracepoint","sched","*")
};

struct Probe : Node {
  std::vector<AttachPoint> attach_points;
  ExprPtr predicate; // may be null
  StmtList body;
};

// `let @m = hash(1024);` (modern bpftrace map declaration)
struct MapDecl : Node {
  std::string name;       // "@m"
  std::string storage;    // "hash", "lruhash", "percpuhash", ...
  uint64_t max_entries = 0;
};

// `config = { key = value; ... }`
struct ConfigEntry : Node {
  std::string key;
  std::string value;
};

struct Program : Node {
  std::vector<ConfigEntry> config;
  std::vector<MapDecl> map_decls;
  std::vector<Probe> probes;
};

// An indented, one-node-per-line rendering of the tree (no ranges or types),
// for `--dump-ast` and tests.
std::string dump_ast(const Program &program);

// Calls `visit` on each direct sub-expression of `e`, in source order: with
// an ExprPtr& for a mutable `e` (the visitor may replace it), a const
// ExprPtr& for a const one. Passes that only need to look inside every
// expression kind the same way use it instead of a switch of their own.
template <typename E, typename Visit> void for_each_child(E &e, Visit &&visit) {
  auto each = [&](auto &list) {
    for (auto &child : list)
      visit(child);
  };
  switch (e.kind) {
  case ExprKind::Map:
    each(e.template as<Map>()->keys);
    break;
  case ExprKind::Call:
    each(e.template as<Call>()->args);
    break;
  case ExprKind::Binary:
    visit(e.template as<Binary>()->lhs);
    visit(e.template as<Binary>()->rhs);
    break;
  case ExprKind::Unary:
    visit(e.template as<Unary>()->operand);
    break;
  case ExprKind::Ternary:
    visit(e.template as<Ternary>()->cond);
    visit(e.template as<Ternary>()->then_expr);
    visit(e.template as<Ternary>()->else_expr);
    break;
  case ExprKind::Field:
    visit(e.template as<Field>()->object);
    break;
  case ExprKind::TupleIndex:
    visit(e.template as<TupleIndex>()->object);
    break;
  case ExprKind::Index:
    visit(e.template as<Index>()->object);
    visit(e.template as<Index>()->index);
    break;
  case ExprKind::Cast:
    visit(e.template as<Cast>()->operand);
    break;
  case ExprKind::Tuple:
    each(e.template as<TupleExpr>()->elements);
    break;
  case ExprKind::Integer:
  case ExprKind::String:
  case ExprKind::Builtin:
  case ExprKind::Positional:
  case ExprKind::Variable:
    break;
  }
}

} // namespace hvt::ast
