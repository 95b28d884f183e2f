// Kernel symbolic names from a tracepoint's print format.
//
// A format file's `print fmt:` line is the TP_printk() of the tracepoint
// after the C preprocessor: a format string and C expressions over the
// record (`REC->field`). Many name the values of a field with a table:
//
//   __print_symbolic(REC->vec, { 0, "HI" }, { 1, "TIMER" }, ...)
//   (REC->isa == 1) ? __print_symbolic(REC->exit_reason & 0xffff, VMX...)
//                   : __print_symbolic(REC->exit_reason, SVM...)
//   __print_flags(REC->flags, "|", { 1, "A" }, { 2, "B" })
//
// This module parses those expressions, finds how a field is named, and
// turns that into (1) typed integer expressions BPF evaluates on the record
// (which table applies, and the number it names) and (2) the tables user
// space prints the names from. symbolic(args.FIELD) in the language is built
// on it (type checker: SymbolicFields::resolve; codegen: lowers the Exprs).
#pragma once

#include "passes/tracepoint_format.h"
#include "symbols.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hvt::printfmt {

// ------------------------------------------------------------------ syntax

enum class NodeKind : uint8_t {
  Number,  // 42, 0x2a, 1UL, 'c'
  String,  // "a" "b" (adjacent literals concatenated)
  Field,   // REC->name
  Ident,   // a name C would resolve: an enum constant, a macro
  Unary,   // text: "-", "+", "!", "~", "*", "&"
  Binary,  // text: the operator
  Ternary, // children: condition, then, else
  Call,    // text: the function; children: the arguments
  Cast,    // text: the type as written ("unsigned long"); children: operand
  Braces,  // { a, b }: an initializer (table entries)
  Member,  // x->name or x.name on something else than REC
  Index,   // x[i]
  Sizeof,  // sizeof(...)
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  NodeKind kind = NodeKind::Number;
  std::string text;
  uint64_t number = 0;       // Number
  bool hex_or_octal = false; // Number: C gives those unsigned types sooner
  bool suffix_unsigned = false;
  int suffix_long = 0; // Number: 0, 1 (L) or 2 (LL)
  std::vector<NodePtr> children;
  std::string source; // the expression as written
};

struct PrintFmt {
  std::string format;                 // the format string, escapes decoded
  std::vector<NodePtr> args;          // null where an argument is not C hvt
                                      // can parse (it is kept as text)
  std::vector<std::string> arg_texts; // every argument as written
};

// Parses the text after "print fmt: ". Fails only when the text does not
// start with a format string; a single argument hvt cannot parse is kept as
// text (a null node) and the others still parse.
std::optional<PrintFmt> parse_print_fmt(std::string_view text,
                                        std::string &error);

// Parses one C expression (used for the print-function definitions).
NodePtr parse_expression(std::string_view text, std::string &error);

// ------------------------------------------------------- print functions

// Some print formats call a kernel function to name a value (xen_mc_entry:
// `xen_hypercall_name(REC->op)`). hvt cannot run kernel code, so it ships
// definitions of those functions as print-format expressions over their
// parameters, written from the facts they encode (scripts/formats/
// print_functions); a call in a print format is expanded with them.
struct PrintFunction {
  std::string name;
  std::vector<std::string> params;
  NodePtr body;
};
using PrintFunctions = std::map<std::string, PrintFunction>;

// Parses definitions "NAME(PARAM, ...) = EXPRESSION". A definition starts
// at column 0 and continues on indented lines; '#' starts a comment line.
std::optional<PrintFunctions> parse_print_functions(std::string_view text,
                                                    std::string &error);

// The definitions shipped with hvt (loaded once; empty if there are none).
const PrintFunctions &shipped_print_functions();

// ------------------------------------------------------- typed expressions

// A C integer type after the usual promotions: 32 or 64 bits, or 1/8/16 as
// the target of a conversion.
struct CType {
  uint8_t bits = 32;
  bool is_signed = true;
  bool operator==(const CType &) const = default;
};

enum class Op : uint8_t {
  Const,
  Field,
  Convert,
  Neg,
  BitNot,
  LogicalNot,
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Shl,
  Shr,
  BitAnd,
  BitOr,
  BitXor,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  LogicalAnd,
  LogicalOr,
  Select, // operands: condition, then, else
};

// An integer expression over a tracepoint record, with C's semantics made
// explicit: every operand is converted to the operation's type by a Convert
// node. Values are 64-bit, "normalized": a value of a narrower type is
// sign- or zero-extended from its width, so 64-bit arithmetic followed by
// normalizing to the result type gives C's result. Division by zero gives 0
// (as BPF does). Nothing has side effects, so && || ?: may evaluate both
// sides.
struct Expr {
  Op op = Op::Const;
  CType type;            // the result type (Convert: the target type)
  uint64_t constant = 0; // Const, normalized
  // Field: where the record holds it and how to widen it.
  std::string field;
  uint32_t offset = 0;
  uint32_t size = 0;
  bool field_signed = false;
  std::vector<std::shared_ptr<const Expr>> operands;
};
using ExprPtr = std::shared_ptr<const Expr>;

// `value` (64 bits) truncated to `type`'s width and extended back.
uint64_t normalize(uint64_t value, CType type);

// Evaluates `expr` on a record laid out as the format says (BPF's ctx).
uint64_t evaluate(const Expr &expr, const uint8_t *record, size_t size);

// Types an expression against a format's fields. Fails (null, `error`) on
// what a record alone cannot compute: unknown names, calls, pointers,
// string fields.
ExprPtr lower(const Node &node, const TracepointFormat *format,
              std::string &error);

// ---------------------------------------------------------- symbolic names

// How one field is named: a tree of conditions (kvm_exit's `isa == 1 ?`)
// whose leaves each compute a number and name it with one table.
struct SymbolicNode {
  ExprPtr condition; // set: an inner node choosing `then_node`/`else_node`
  std::shared_ptr<SymbolicNode> then_node, else_node;
  ExprPtr value;         // leaf: the number to name
  SymbolTable table;     // leaf
  uint32_t table_id = 0; // leaf: 1 + index in a program's SymbolTables
};

struct SymbolicSpec {
  std::string tracepoint; // "kvm:kvm_exit"
  std::string field;
  std::string source; // the print-format argument it came from
  std::shared_ptr<SymbolicNode> root;
  std::vector<std::string> skipped; // entries whose value hvt could not
                                    // compute (e.g. enum names the kernel did
                                    // not substitute); those print as numbers
  // Set when `root` is one table naming the field's own value, or that
  // value & stored_mask (all ones: no mask): BPF can then store the field as
  // read, and user space applies the mask and the table (a symbolic Type's
  // symbol_table and symbol_mask) instead of BPF encoding a word.
  ExprPtr stored_field;
  uint64_t stored_mask = 0;
};

// How `format`'s print format names `field`: the first argument of its print
// format that names a value computed from REC->field with __print_symbolic
// or __print_flags, possibly under conditions (?:) whose other branches may
// be further tables or string literals. A string-literal branch names the
// field's own value with that text. Conditions on the format's fixed_fields
// (passes/host_fields.h) are decided here: only the branch taken is kept.
std::optional<SymbolicSpec> find_symbolic(const TracepointFormat &format,
                                          const std::string &field,
                                          const PrintFunctions &functions,
                                          std::string &error);

// The fields of `format` that find_symbolic() can name.
std::vector<std::string> symbolic_fields(const TracepointFormat &format,
                                         const PrintFunctions &functions);

// The 64-bit value symbolic() computes in BPF for a record: the applicable
// leaf's table id in the top byte, its number in the low 56 bits (see
// runtime/symbols.h). Table ids must have been assigned.
uint64_t encode(const SymbolicNode &node, const uint8_t *record, size_t size);

// Registers every leaf's table in `tables` and records its id. False when
// the program has more distinct tables than a value can name.
bool assign_tables(SymbolicNode &node, SymbolTables &tables);

// ------------------------------------------------- a program's symbolic()s

// Every (tracepoint, field) a program names, resolved once, with its tables
// in one SymbolTables that every symbolic value's Type shares.
class SymbolicFields {
public:
  // With shipped_print_functions(), read when first needed: every compile
  // makes one, few scripts use symbolic().
  SymbolicFields();
  explicit SymbolicFields(PrintFunctions functions);

  // How `format` names `field`, with table ids assigned; null and `error`
  // when it does not. Cached: safe to call once per type-checking round.
  const SymbolicSpec *resolve(const TracepointFormat &format,
                              const std::string &field, std::string &error);
  // A spec resolve() returned before ("cat:name", field), or null.
  const SymbolicSpec *find(const std::string &tracepoint,
                           const std::string &field) const;
  const PrintFunctions &functions() const {
    return own_functions_ ? *own_functions_ : shipped_print_functions();
  }
  std::shared_ptr<const SymbolTables> tables() const { return tables_; }

private:
  struct Entry {
    std::optional<SymbolicSpec> spec;
    std::string error;
  };
  std::optional<PrintFunctions> own_functions_;
  std::map<std::pair<std::string, std::string>, Entry> cache_;
  std::shared_ptr<SymbolTables> tables_;
};

} // namespace hvt::printfmt
