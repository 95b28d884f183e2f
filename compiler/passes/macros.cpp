#include "passes/macros.h"

#include "frontend/parser.h"

#include <algorithm>
#include <functional>

namespace hvt {
namespace {

using ExprVisitor = std::function<void(ast::ExprPtr &)>;

// Calls `visit` on each expression directly in `stmts` (not nested ones).
void for_each_expr(ast::StmtList &stmts, const ExprVisitor &visit) {
  for (auto &stmt : stmts) {
    switch (stmt->kind) {
    case ast::StmtKind::Expr:
      visit(stmt->as<ast::ExprStmt>()->expr);
      break;
    case ast::StmtKind::AssignMap: {
      auto *a = stmt->as<ast::AssignMap>();
      for (auto &key : a->map->keys)
        visit(key);
      visit(a->value);
      break;
    }
    case ast::StmtKind::AssignVar:
      visit(stmt->as<ast::AssignVar>()->value);
      break;
    case ast::StmtKind::If: {
      auto *s = stmt->as<ast::If>();
      visit(s->cond);
      for_each_expr(s->then_body, visit);
      for_each_expr(s->else_body, visit);
      break;
    }
    case ast::StmtKind::Unroll:
      visit(stmt->as<ast::Unroll>()->count);
      for_each_expr(stmt->as<ast::Unroll>()->body, visit);
      break;
    case ast::StmtKind::While:
      visit(stmt->as<ast::While>()->cond);
      for_each_expr(stmt->as<ast::While>()->body, visit);
      break;
    case ast::StmtKind::Block:
      for_each_expr(stmt->as<ast::BlockStmt>()->body, visit);
      break;
    case ast::StmtKind::Jump:
      break;
    }
  }
}

bool contains(const std::vector<std::string> &names, const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// `text` shortened for a message.
std::string shown(const std::string &text) {
  return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

class Expander {
public:
  Expander(Preprocessed &macros, Diagnostics &diags)
      : macros_(macros), diags_(diags) {}

  MacroExpansions run(ast::Program &program) {
    ExprVisitor visit = [&](ast::ExprPtr &e) { expr(e); };
    for (auto &probe : program.probes) {
      if (probe.predicate)
        expr(probe.predicate);
      for_each_expr(probe.body, visit);
    }
    return std::move(result_);
  }

private:
  Preprocessed &macros_;
  Diagnostics &diags_;
  MacroExpansions result_;

  void expr(ast::ExprPtr &e) {
    if (!e)
      return;
    if (auto *call = e->as<ast::Call>()) {
      check_call(*call);
      // The first argument of kstack()/ustack() may be a stack mode word.
      bool stack = call->name == "kstack" || call->name == "ustack";
      for (size_t i = 0; i < call->args.size(); ++i)
        if (!(stack && i == 0 && call->args[i]->as<ast::Builtin>()))
          expr(call->args[i]);
      return;
    }
    if (auto *word = e->as<ast::Builtin>()) {
      if (!contains(builtin_names(), word->name))
        expand(e, *word);
      return;
    }
    for_each_child(*e, [&](ast::ExprPtr &child) { expr(child); });
  }

  void check_call(const ast::Call &call) {
    if (contains(function_names(), call.name))
      return;
    const MacroDefinition *def = macros_.find(call.name);
    if (!def)
      return;
    add_note(diags_.error(call.name_range, "macro '" + call.name +
                                               "' cannot be called in the "
                                               "program"),
             *def)
        .hint(def->function_like
                  ? "as in bpftrace, function-like macros are expanded only "
                    "inside '#if' and other macros; write the expression out"
                  : "'" + call.name + "' is an object-like macro");
  }

  Diagnostic &add_note(Diagnostic &d, const MacroDefinition &def) {
    return d.note(def.range, note_text(def));
  }

  static std::string note_text(const MacroDefinition &def) {
    std::string text = "macro '" + def.name + "'";
    if (def.file.empty())
      return text + " is defined here";
    return text + " is " + def.where() + " as '" + shown(def.body) + "'";
  }

  void expand(ast::ExprPtr &e, const ast::Builtin &word) {
    const MacroDefinition *def = macros_.find(word.name);
    if (!def || def->function_like)
      return; // left to the type checker: an unknown builtin
    SourceRange at = word.range;
    std::string text, error;
    if (!macros_.expand(word.name, text, error)) {
      add_note(
          diags_.error(at, "cannot expand macro '" + word.name + "': " + error),
          *def);
      return;
    }
    if (text == word.name) {
      // glibc's `#define SOCK_DGRAM SOCK_DGRAM` names a C enum value.
      add_note(diags_.error(at, "'" + word.name +
                                    "' is a C enum value, and hvt reads only "
                                    "macros from headers"),
               *def)
          .hint("write its value instead");
      return;
    }
    if (text.empty()) {
      add_note(diags_.error(at, "macro '" + word.name + "' expands to nothing"),
               *def);
      return;
    }
    ast::ExprPtr replacement = parse_expression(text, error);
    if (!replacement) {
      add_note(diags_.error(at, "macro '" + word.name + "' expands to '" +
                                    shown(text) +
                                    "', which is not an expression"),
               *def);
      return;
    }
    std::string unknown;
    relocate(*replacement, at, unknown);
    if (!unknown.empty()) {
      add_note(diags_.error(at, "macro '" + word.name + "' expands to '" +
                                    shown(text) + "', and '" + unknown +
                                    "' is not defined"),
               *def);
      return;
    }
    result_.uses.push_back({at, def->range, note_text(*def)});
    e = std::move(replacement);
  }

  // Points every node of an expansion at the use; `unknown` receives an
  // identifier left over that is not a builtin.
  static void relocate(ast::Expr &e, SourceRange at, std::string &unknown) {
    e.range = at;
    if (auto *map = e.as<ast::Map>())
      map->name_range = at;
    else if (auto *call = e.as<ast::Call>())
      call->name_range = at;
    else if (auto *field = e.as<ast::Field>())
      field->field_range = at;
    else if (auto *word = e.as<ast::Builtin>();
             word && unknown.empty() && !contains(builtin_names(), word->name))
      unknown = word->name;
    for_each_child(e, [&](ast::ExprPtr &child) {
      if (child)
        relocate(*child, at, unknown);
    });
  }
};

bool same_range(const SourceRange &a, const SourceRange &b) {
  return a.begin.line == b.begin.line && a.begin.column == b.begin.column &&
         a.end.line == b.end.line && a.end.column == b.end.column;
}

} // namespace

MacroExpansions expand_macros(ast::Program &program, Preprocessed &macros,
                              Diagnostics &diags) {
  return Expander(macros, diags).run(program);
}

void add_macro_notes(Diagnostics &diags, const MacroExpansions &expansions) {
  if (expansions.uses.empty() || diags.all().empty())
    return;
  Diagnostics annotated;
  for (const Diagnostic &d : diags.all()) {
    Diagnostic &copy = d.severity == Severity::Error
                           ? annotated.error(d.range, d.message)
                           : annotated.warning(d.range, d.message);
    copy = d;
    if (copy.related.valid() || !copy.related_message.empty())
      continue;
    for (const auto &use : expansions.uses)
      if (same_range(use.at, d.range)) {
        copy.note(use.defined, use.note);
        break;
      }
  }
  diags = std::move(annotated);
}

} // namespace hvt
