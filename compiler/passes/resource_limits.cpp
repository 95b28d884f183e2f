// Pass 3: limits hvt can tell from the typed AST, before any code exists.
//
//  * Attach points. A program may attach at most max_probes (512, as in
//    bpftrace; config max_probes or BPFTRACE_MAX_PROBES raise it): more is
//    almost always a wildcard typo, and each match costs a program and an
//    attach. The attach point that expanded the most is blamed.
//  * Unrolled code size. unroll(N) copies its body N times, and nested
//    unrolls multiply: unroll(100) { unroll(100) { unroll(100) {...} } }
//    would ask LLVM for a million copies and never finish. Each probe may
//    unroll to at most kMaxUnrolledNodes statements and expressions.
//  * Loops that never end: `while (1) {...}` without a `break` or `return`
//    is rejected by the verifier ("infinite loop detected"); hvt says so
//    first, pointing at the loop.
//
// The stack limit needs the generated code and lives in
// codegen/bpf_limits.cpp.
#include "passes/semantic.h"

#include <algorithm>

namespace hvt {

namespace {

// Statements and expressions per probe once unrolled. A typical statement
// is 3 to 6 nodes, so this allows bodies of 20 to 30 statements at
// unroll(100). It bounds the LLVM IR that code generation builds before
// codegen/bpf_limits.h's finer limit on that IR (32768 instructions per
// program) applies: one node makes 3 to ~90 instructions, so any program
// this allows is at most a few hundred thousand instructions (~0.5 s, 200
// MB), where 50,000 nodes made 4 million (3 s, 840 MB).
constexpr uint64_t kMaxUnrolledNodes = 10000;

uint64_t saturating_mul(uint64_t a, uint64_t b) {
  uint64_t product;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

uint64_t count_nodes(const ast::Expr *expr);

uint64_t count_nodes(const std::vector<ast::ExprPtr> &exprs) {
  uint64_t total = 0;
  for (const auto &expr : exprs)
    total = saturating_add(total, count_nodes(expr.get()));
  return total;
}

uint64_t count_nodes(const ast::Expr *expr) {
  if (!expr)
    return 0;
  uint64_t children = 0;
  switch (expr->kind) {
  case ast::ExprKind::Map:
    children = count_nodes(expr->as<ast::Map>()->keys);
    break;
  case ast::ExprKind::Call:
    children = count_nodes(expr->as<ast::Call>()->args);
    break;
  case ast::ExprKind::Binary: {
    const auto *binary = expr->as<ast::Binary>();
    children = saturating_add(count_nodes(binary->lhs.get()),
                              count_nodes(binary->rhs.get()));
    break;
  }
  case ast::ExprKind::Unary:
    children = count_nodes(expr->as<ast::Unary>()->operand.get());
    break;
  case ast::ExprKind::Ternary: {
    const auto *ternary = expr->as<ast::Ternary>();
    children =
        saturating_add(count_nodes(ternary->cond.get()),
                       saturating_add(count_nodes(ternary->then_expr.get()),
                                      count_nodes(ternary->else_expr.get())));
    break;
  }
  case ast::ExprKind::Field:
    children = count_nodes(expr->as<ast::Field>()->object.get());
    break;
  case ast::ExprKind::TupleIndex:
    children = count_nodes(expr->as<ast::TupleIndex>()->object.get());
    break;
  case ast::ExprKind::Index: {
    const auto *index = expr->as<ast::Index>();
    children = saturating_add(count_nodes(index->object.get()),
                              count_nodes(index->index.get()));
    break;
  }
  case ast::ExprKind::Cast:
    children = count_nodes(expr->as<ast::Cast>()->operand.get());
    break;
  case ast::ExprKind::Tuple:
    children = count_nodes(expr->as<ast::TupleExpr>()->elements);
    break;
  case ast::ExprKind::Integer:
  case ast::ExprKind::String:
  case ast::ExprKind::Builtin:
  case ast::ExprKind::Positional:
  case ast::ExprKind::Variable:
    break;
  }
  return saturating_add(1, children);
}

// True if `body` can leave the loop it belongs to: a `return` anywhere, or a
// `break` that is not inside a nested loop.
bool leaves_loop(const ast::StmtList &body) {
  for (const auto &stmt : body) {
    switch (stmt->kind) {
    case ast::StmtKind::Jump:
      if (stmt->as<ast::Jump>()->jump != ast::JumpKind::Continue)
        return true;
      break;
    case ast::StmtKind::If: {
      const auto *s = stmt->as<ast::If>();
      if (leaves_loop(s->then_body) || leaves_loop(s->else_body))
        return true;
      break;
    }
    case ast::StmtKind::Unroll:
      if (leaves_loop(stmt->as<ast::Unroll>()->body))
        return true;
      break;
    case ast::StmtKind::Block:
      if (leaves_loop(stmt->as<ast::BlockStmt>()->body))
        return true;
      break;
    case ast::StmtKind::While: {
      // Its breaks end only itself, but a return ends the program.
      std::vector<const ast::StmtList *> work{&stmt->as<ast::While>()->body};
      while (!work.empty()) {
        const ast::StmtList *list = work.back();
        work.pop_back();
        for (const auto &inner : *list) {
          if (auto *jump = inner->as<ast::Jump>();
              jump && jump->jump == ast::JumpKind::Return)
            return true;
          if (auto *s = inner->as<ast::If>()) {
            work.push_back(&s->then_body);
            work.push_back(&s->else_body);
          } else if (auto *s = inner->as<ast::Unroll>()) {
            work.push_back(&s->body);
          } else if (auto *s = inner->as<ast::While>()) {
            work.push_back(&s->body);
          } else if (auto *s = inner->as<ast::BlockStmt>()) {
            work.push_back(&s->body);
          }
        }
      }
      break;
    }
    case ast::StmtKind::Expr:
    case ast::StmtKind::AssignMap:
    case ast::StmtKind::AssignVar:
      break;
    }
  }
  return false;
}

class LimitChecker {
public:
  explicit LimitChecker(Diagnostics &diags) : diags_(diags) {}

  void check_probe(const ast::Probe &probe) {
    largest_unroll_ = nullptr;
    largest_unroll_size_ = 0;
    uint64_t size = saturating_add(count_nodes(probe.predicate.get()),
                                   count_block(probe.body));
    if (size > kMaxUnrolledNodes && largest_unroll_)
      report_unroll(size);
  }

private:
  uint64_t count_block(const ast::StmtList &body) {
    uint64_t total = 0;
    for (const auto &stmt : body)
      total = saturating_add(total, count_stmt(*stmt));
    return total;
  }

  uint64_t count_stmt(const ast::Stmt &stmt) {
    switch (stmt.kind) {
    case ast::StmtKind::Expr:
      return saturating_add(1,
                            count_nodes(stmt.as<ast::ExprStmt>()->expr.get()));
    case ast::StmtKind::AssignMap: {
      const auto *s = stmt.as<ast::AssignMap>();
      return saturating_add(1, saturating_add(count_nodes(s->map.get()),
                                              count_nodes(s->value.get())));
    }
    case ast::StmtKind::AssignVar: {
      const auto *s = stmt.as<ast::AssignVar>();
      return saturating_add(2, count_nodes(s->value.get()));
    }
    case ast::StmtKind::If: {
      const auto *s = stmt.as<ast::If>();
      return saturating_add(
          1, saturating_add(count_nodes(s->cond.get()),
                            saturating_add(count_block(s->then_body),
                                           count_block(s->else_body))));
    }
    case ast::StmtKind::While: {
      const auto *s = stmt.as<ast::While>();
      check_loop_ends(*s);
      return saturating_add(
          1, saturating_add(count_nodes(s->cond.get()), count_block(s->body)));
    }
    case ast::StmtKind::Unroll: {
      const auto *s = stmt.as<ast::Unroll>();
      // The type checker has made sure the count is a literal.
      const auto *count = s->count->as<ast::IntegerLit>();
      uint64_t copies = count ? count->value : 1;
      uint64_t size = saturating_mul(copies, count_block(s->body));
      if (size >= largest_unroll_size_) {
        largest_unroll_ = s; // the outermost of equals: it is counted last
        largest_unroll_size_ = size;
      }
      return saturating_add(1, size);
    }
    case ast::StmtKind::Jump:
      return 1;
    case ast::StmtKind::Block:
      return saturating_add(1, count_block(stmt.as<ast::BlockStmt>()->body));
    }
    return 1;
  }

  void check_loop_ends(const ast::While &loop) {
    const auto *constant = loop.cond->as<ast::IntegerLit>();
    if (!constant || constant->value == 0 || leaves_loop(loop.body))
      return;
    diags_
        .error(loop.cond->range,
               "this loop never ends: its condition is always true, and "
               "nothing in its body leaves it")
        .hint("add a 'break' or 'return', or a condition that becomes "
              "false; the kernel refuses programs that may not finish");
  }

  void report_unroll(uint64_t size) {
    std::string amount =
        size == UINT64_MAX ? "more than 2^64" : std::to_string(size);
    diags_
        .error(largest_unroll_->range,
               "unroll makes this probe too large: unrolled, it has " + amount +
                   " statements and expressions, and the limit is " +
                   std::to_string(kMaxUnrolledNodes))
        .hint("unroll fewer times, or use a while loop (it runs without "
              "copying its body)");
  }

  Diagnostics &diags_;
  const ast::Unroll *largest_unroll_ = nullptr;
  uint64_t largest_unroll_size_ = 0;
};

void check_attach_point_count(const ast::Program &program,
                              const SemanticResult &result,
                              Diagnostics &diags) {
  size_t total = 0;
  for (const auto &info : result.probes)
    total += info.points.size();
  const uint32_t limit = result.options.max_probes;
  if (total <= limit || result.probes.size() != program.probes.size())
    return;
  const ast::AttachPoint *widest = nullptr;
  size_t most = 0;
  for (size_t p = 0; p < program.probes.size(); ++p)
    for (const auto &ap : program.probes[p].attach_points) {
      size_t n = 0;
      for (const auto &point : result.probes[p].points)
        n += point.desc.range.begin.line == ap.range.begin.line &&
             point.desc.range.begin.column == ap.range.begin.column;
      if (n > most) {
        most = n;
        widest = &ap;
      }
    }
  if (!widest)
    return;
  diags
      .error(widest->range, "this program attaches " + std::to_string(total) +
                                " probes, over the limit of " +
                                std::to_string(limit))
      .hint("'" + widest->raw + "' matches " + std::to_string(most) +
            " of them: narrow it (hvt -l '" + widest->raw + "' lists them)")
      .hint("or raise the limit: config = { max_probes = " +
            std::to_string(total) +
            " } or BPFTRACE_MAX_PROBES=" + std::to_string(total) +
            " (many probes at once can make the system unstable)");
}

} // namespace

void check_resource_limits(const ast::Program &program,
                           const SemanticResult &result, Diagnostics &diags) {
  check_attach_point_count(program, result, diags);
  LimitChecker checker(diags);
  for (const auto &probe : program.probes)
    checker.check_probe(probe);
}

} // namespace hvt
