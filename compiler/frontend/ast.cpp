#include "frontend/ast.h"

#include <sstream>

namespace hvt::ast {

const char *binary_op_spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::BitAnd:
    return "&";
  case BinaryOp::BitOr:
    return "|";
  case BinaryOp::BitXor:
    return "^";
  case BinaryOp::Shl:
    return "<<";
  case BinaryOp::Shr:
    return ">>";
  case BinaryOp::LogicalAnd:
    return "&&";
  case BinaryOp::LogicalOr:
    return "||";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  }
  return "?";
}

// Prefix and postfix forms share a spelling; messages say which by context.
const char *unary_op_spelling(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
    return "-";
  case UnaryOp::LogicalNot:
    return "!";
  case UnaryOp::BitNot:
    return "~";
  case UnaryOp::Deref:
    return "*";
  case UnaryOp::PreIncrement:
  case UnaryOp::PostIncrement:
    return "++";
  case UnaryOp::PreDecrement:
  case UnaryOp::PostDecrement:
    return "--";
  }
  return "?";
}

namespace {

// A string value as a C literal, so control bytes stay visible in dumps.
std::string quote(const std::string &value) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    default:
      if (byte < 0x20 || byte == 0x7f) {
        out += "\\x";
        out += hex[byte >> 4];
        out += hex[byte & 0xf];
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

class Dumper {
public:
  std::string dump(const Program &program) {
    line("Program");
    ++depth_;
    for (const auto &entry : program.config)
      line("Config " + entry.key + " = " + entry.value);
    for (const auto &decl : program.map_decls)
      line("MapDecl " + decl.name + " = " + decl.storage + "(" +
           std::to_string(decl.max_entries) + ")");
    for (const auto &probe : program.probes) {
      std::string points;
      for (const auto &point : probe.attach_points)
        points += (points.empty() ? "" : ", ") + point.raw;
      line("Probe " + points);
      ++depth_;
      if (probe.predicate) {
        line("Predicate");
        nested(*probe.predicate);
      }
      stmts(probe.body);
      --depth_;
    }
    --depth_;
    return out_.str();
  }

private:
  std::ostringstream out_;
  int depth_ = 0;

  void line(const std::string &text) {
    out_ << std::string(depth_ * 2, ' ') << text << '\n';
  }

  void nested(const Expr &e) {
    ++depth_;
    expr(e);
    --depth_;
  }

  void labelled(const char *label, const StmtList &list) {
    line(label);
    ++depth_;
    stmts(list);
    --depth_;
  }

  void stmts(const StmtList &list) {
    for (const auto &s : list)
      stmt(*s);
  }

  static std::string assign(const AssignOp &op) {
    return op.compound ? std::string(binary_op_spelling(op.op)) + "=" : "=";
  }

  void stmt(const Stmt &s) {
    switch (s.kind) {
    case StmtKind::Expr:
      line("ExprStmt");
      nested(*s.as<ExprStmt>()->expr);
      return;
    case StmtKind::AssignMap: {
      const auto &a = *s.as<AssignMap>();
      line("AssignMap " + assign(a.op));
      nested(*a.map);
      nested(*a.value);
      return;
    }
    case StmtKind::AssignVar: {
      const auto &a = *s.as<AssignVar>();
      line("AssignVar " + a.var->name + " " + assign(a.op));
      nested(*a.value);
      return;
    }
    case StmtKind::If: {
      const auto &i = *s.as<If>();
      line("If");
      ++depth_;
      expr(*i.cond);
      labelled("Then", i.then_body);
      if (!i.else_body.empty())
        labelled("Else", i.else_body);
      --depth_;
      return;
    }
    case StmtKind::Unroll: {
      const auto &u = *s.as<Unroll>();
      line("Unroll");
      ++depth_;
      expr(*u.count);
      labelled("Body", u.body);
      --depth_;
      return;
    }
    case StmtKind::While: {
      const auto &w = *s.as<While>();
      line("While");
      ++depth_;
      expr(*w.cond);
      labelled("Body", w.body);
      --depth_;
      return;
    }
    case StmtKind::Jump: {
      JumpKind kind = s.as<Jump>()->jump;
      line(std::string("Jump ") + (kind == JumpKind::Return  ? "return"
                                   : kind == JumpKind::Break ? "break"
                                                             : "continue"));
      return;
    }
    case StmtKind::Block:
      labelled("Block", s.as<BlockStmt>()->body);
      return;
    }
  }

  void expr(const Expr &e) {
    switch (e.kind) {
    case ExprKind::Integer:
      line("Integer " + std::to_string(e.as<IntegerLit>()->value));
      return;
    case ExprKind::String:
      line("String " + quote(e.as<StringLit>()->value));
      return;
    case ExprKind::Builtin:
      line("Builtin " + e.as<Builtin>()->name);
      return;
    case ExprKind::Positional: {
      const auto &p = *e.as<Positional>();
      line("Positional " +
           (p.is_count ? std::string("$#") : "$" + std::to_string(p.index)));
      return;
    }
    case ExprKind::Variable:
      line("Variable " + e.as<Variable>()->name);
      return;
    case ExprKind::Map: {
      const auto &m = *e.as<Map>();
      line("Map " + m.name);
      for (const auto &key : m.keys)
        nested(*key);
      return;
    }
    case ExprKind::Call: {
      const auto &c = *e.as<Call>();
      line("Call " + c.name);
      for (const auto &arg : c.args)
        nested(*arg);
      return;
    }
    case ExprKind::Binary: {
      const auto &b = *e.as<Binary>();
      line(std::string("Binary ") + binary_op_spelling(b.op));
      nested(*b.lhs);
      nested(*b.rhs);
      return;
    }
    case ExprKind::Unary: {
      const auto &u = *e.as<Unary>();
      const char *fix =
          u.op == UnaryOp::PostIncrement || u.op == UnaryOp::PostDecrement
              ? "post"
          : u.op == UnaryOp::PreIncrement || u.op == UnaryOp::PreDecrement
              ? "pre"
              : "";
      line(std::string("Unary ") + fix + unary_op_spelling(u.op));
      nested(*u.operand);
      return;
    }
    case ExprKind::Ternary: {
      const auto &t = *e.as<Ternary>();
      line("Ternary");
      nested(*t.cond);
      nested(*t.then_expr);
      nested(*t.else_expr);
      return;
    }
    case ExprKind::Field: {
      const auto &f = *e.as<Field>();
      line("Field " + std::string(f.arrow ? "->" : ".") + f.field);
      nested(*f.object);
      return;
    }
    case ExprKind::TupleIndex: {
      const auto &t = *e.as<TupleIndex>();
      line("TupleIndex ." + std::to_string(t.index));
      nested(*t.object);
      return;
    }
    case ExprKind::Index: {
      const auto &i = *e.as<Index>();
      line("Index");
      nested(*i.object);
      nested(*i.index);
      return;
    }
    case ExprKind::Cast: {
      const auto &c = *e.as<Cast>();
      line("Cast " + c.type_name);
      nested(*c.operand);
      return;
    }
    case ExprKind::Tuple:
      line("Tuple");
      for (const auto &element : e.as<TupleExpr>()->elements)
        nested(*element);
      return;
    }
  }
};

} // namespace

std::string dump_ast(const Program &program) { return Dumper().dump(program); }

} // namespace hvt::ast
