// Parse tree -> hvt AST. Runs only on trees without syntax errors, so every
// child the grammar requires is present. Literal values are decoded and
// checked here, where each error can point at the exact characters.
#include "frontend/ast_builder.h"

#include "HvtBaseVisitor.h"

#include <algorithm>
#include <optional>

namespace hvt {

using hvt_grammar::HvtParser;

SourceRange token_range(const antlr4::Token &token) {
  SourceRange range;
  range.begin.line = token.getLine();
  range.begin.column = token.getCharPositionInLine() + 1;
  range.end = range.begin;
  if (token.getStopIndex() >= token.getStartIndex() &&
      token.getStartIndex() != INVALID_INDEX)
    range.end.column += token.getStopIndex() - token.getStartIndex();
  return range;
}

std::string describe_char(std::string_view text, size_t offset,
                          size_t &length) {
  length = 1;
  if (offset >= text.size())
    return "";
  auto byte = static_cast<unsigned char>(text[offset]);
  if (byte >= 0x20 && byte < 0x7f)
    return std::string(1, static_cast<char>(byte));
  // A well-formed multi-byte UTF-8 sequence is shown as the character.
  size_t size = byte >= 0xc2 && byte <= 0xdf   ? 2
                : byte >= 0xe0 && byte <= 0xef ? 3
                : byte >= 0xf0 && byte <= 0xf4 ? 4
                                               : 0;
  bool well_formed = size != 0 && offset + size <= text.size();
  for (size_t i = 1; well_formed && i < size; ++i)
    well_formed = (static_cast<unsigned char>(text[offset + i]) & 0xc0) == 0x80;
  if (well_formed) {
    length = size;
    return std::string(text.substr(offset, size));
  }
  static const char hex[] = "0123456789abcdef";
  return std::string("\\x") + hex[byte >> 4] + hex[byte & 0xf];
}

namespace {

using P = HvtParser;

SourceRange span(const antlr4::Token &first, const antlr4::Token &last) {
  return {token_range(first).begin, token_range(last).end};
}

SourceRange ctx_range(antlr4::ParserRuleContext *ctx) {
  return span(*ctx->getStart(), *ctx->getStop());
}

// ---------------------------------------------------------------- literals

struct LiteralError {
  std::string message;
  std::string hint;
};

int digit_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 99;
}

// value = value * base + digit, false on uint64 overflow.
bool accumulate(uint64_t &value, unsigned base, unsigned digit) {
  return !__builtin_mul_overflow(value, base, &value) &&
         !__builtin_add_overflow(value, digit, &value);
}

const LiteralError kTooLarge = {
    "integer literal too large",
    "the largest integer is 18446744073709551615 (2^64 - 1)"};

// Exponent form: DIGITS ('.' DIGITS)? [eE] [+-]? DIGITS, '_' already removed.
// Computed exactly in decimal, so `2.5e3` is 2500 and `1e-3` is rejected.
std::optional<uint64_t> parse_exponent_form(std::string_view text,
                                            LiteralError &error) {
  size_t e = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, e);
  std::string_view exponent = text.substr(e + 1);
  bool negative = !exponent.empty() && exponent[0] == '-';
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+'))
    exponent.remove_prefix(1);
  // Saturate: anything this large overflows or vanishes anyway.
  long scale = 0;
  for (char c : exponent)
    scale = std::min(scale * 10 + (c - '0'), 100000L);
  if (negative)
    scale = -scale;

  std::string digits;
  size_t dot = mantissa.find('.');
  digits.append(mantissa.substr(0, dot));
  if (dot != std::string_view::npos) {
    std::string_view fraction = mantissa.substr(dot + 1);
    digits.append(fraction);
    scale -= static_cast<long>(fraction.size());
  }
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty())
    return 0;
  if (scale < 0) {
    size_t dropped = static_cast<size_t>(-scale);
    if (dropped > digits.size() ||
        digits.find_first_not_of('0', digits.size() - dropped) !=
            std::string::npos) {
      error = {"integer literal is not a whole number",
               "exponent literals such as 1e6 must have an integer value"};
      return std::nullopt;
    }
    digits.resize(digits.size() - dropped);
  } else {
    if (digits.size() + scale > 20) {
      error = kTooLarge;
      return std::nullopt;
    }
    digits.append(static_cast<size_t>(scale), '0');
  }
  uint64_t value = 0;
  for (char c : digits)
    if (!accumulate(value, 10, c - '0')) {
      error = kTooLarge;
      return std::nullopt;
    }
  return value;
}

// The value of an INT token: decimal, octal (leading 0), hex, '_'
// separators, exponent form.
std::optional<uint64_t> parse_integer(std::string_view token,
                                      LiteralError &error) {
  std::string text;
  for (char c : token)
    if (c != '_')
      text += c;

  unsigned base = 10;
  std::string_view digits = text;
  if (text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
    if (digits.empty()) {
      error = {"hex literal has no digits", ""};
      return std::nullopt;
    }
  } else if (text.find_first_of("eE") != std::string::npos) {
    return parse_exponent_form(text, error);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    digits.remove_prefix(1);
  }

  uint64_t value = 0;
  for (char c : digits) {
    unsigned digit = digit_value(c);
    if (digit >= base) {
      error = {std::string("invalid digit '") + c + "' in octal literal",
               "a leading 0 makes an integer literal octal"};
      return std::nullopt;
    }
    if (!accumulate(value, base, digit)) {
      error = kTooLarge;
      return std::nullopt;
    }
  }
  return value;
}

struct EscapeError {
  size_t offset = 0; // into the string body (after the opening quote)
  size_t length = 0;
  std::string message;
  std::string hint;
};

// Decodes the body of a string literal (between the quotes). The lexer
// guarantees that a backslash is always followed by some character.
std::string decode_string(std::string_view body,
                          std::vector<EscapeError> &errors) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out += body[i];
      continue;
    }
    size_t start = i++;
    char c = body[i];
    switch (c) {
    case 'n':
      out += '\n';
      continue;
    case 't':
      out += '\t';
      continue;
    case 'r':
      out += '\r';
      continue;
    case '\\':
      out += '\\';
      continue;
    case '"':
      out += '"';
      continue;
    case '\'':
      out += '\'';
      continue;
    default:
      break;
    }
    if (c >= '0' && c <= '7') { // \N, \NN, \NNN
      unsigned value = 0;
      size_t end = i;
      while (end < body.size() && end < i + 3 && body[end] >= '0' &&
             body[end] <= '7')
        value = value * 8 + (body[end++] - '0');
      if (value > 0xff) {
        errors.push_back({start, end - start,
                          "octal escape sequence '" +
                              std::string(body.substr(start, end - start)) +
                              "' out of range",
                          "the largest octal escape is \\377"});
      }
      out += static_cast<char>(value);
      i = end - 1;
      continue;
    }
    if (c == 'x') { // \xH, \xHH
      unsigned value = 0;
      size_t end = i + 1;
      while (end < body.size() && end < i + 3 && digit_value(body[end]) < 16)
        value = value * 16 + digit_value(body[end++]);
      if (end == i + 1)
        errors.push_back({start, 2, "escape sequence '\\x' has no hex digits",
                          "write a byte in hex as \\xHH"});
      out += static_cast<char>(value);
      i = end - 1;
      continue;
    }
    size_t length = 0;
    std::string shown = describe_char(body, i, length);
    errors.push_back({start, length + 1,
                      "unknown escape sequence '\\" + shown + "'",
                      "valid escapes are \\n \\t \\r \\\\ \\\" \\' \\0, "
                      "\\xHH (hex) and \\NNN (octal)"});
    out.append(body.substr(i, length));
    i += length - 1;
  }
  return out;
}

// ------------------------------------------------------------------ builder

// Thrown after a nesting-limit diagnostic: nothing useful can be built.
struct NestingLimitReached {};

ast::BinaryOp binary_op(size_t token_type) {
  switch (token_type) {
  case P::PLUS:
  case P::PLUS_ASSIGN:
    return ast::BinaryOp::Add;
  case P::MINUS:
  case P::MINUS_ASSIGN:
    return ast::BinaryOp::Sub;
  case P::STAR:
  case P::STAR_ASSIGN:
    return ast::BinaryOp::Mul;
  case P::SLASH:
  case P::SLASH_ASSIGN:
    return ast::BinaryOp::Div;
  case P::PERCENT:
  case P::PERCENT_ASSIGN:
    return ast::BinaryOp::Mod;
  case P::BIT_AND:
  case P::AND_ASSIGN:
    return ast::BinaryOp::BitAnd;
  case P::BIT_OR:
  case P::OR_ASSIGN:
    return ast::BinaryOp::BitOr;
  case P::BIT_XOR:
  case P::XOR_ASSIGN:
    return ast::BinaryOp::BitXor;
  case P::SHL:
  case P::SHL_ASSIGN:
    return ast::BinaryOp::Shl;
  case P::SHR:
  case P::SHR_ASSIGN:
    return ast::BinaryOp::Shr;
  case P::LOGICAL_AND:
    return ast::BinaryOp::LogicalAnd;
  case P::LOGICAL_OR:
    return ast::BinaryOp::LogicalOr;
  case P::EQ:
    return ast::BinaryOp::Eq;
  case P::NE:
    return ast::BinaryOp::Ne;
  case P::LT:
    return ast::BinaryOp::Lt;
  case P::LE:
    return ast::BinaryOp::Le;
  case P::GT:
    return ast::BinaryOp::Gt;
  case P::GE:
    return ast::BinaryOp::Ge;
  default:
    return ast::BinaryOp::Add; // unreachable for grammar tokens
  }
}

ast::UnaryOp prefix_op(size_t token_type) {
  switch (token_type) {
  case P::MINUS:
    return ast::UnaryOp::Neg;
  case P::NOT:
    return ast::UnaryOp::LogicalNot;
  case P::BIT_NOT:
    return ast::UnaryOp::BitNot;
  case P::STAR:
    return ast::UnaryOp::Deref;
  case P::INCREMENT:
    return ast::UnaryOp::PreIncrement;
  default:
    return ast::UnaryOp::PreDecrement;
  }
}

class Builder : public hvt_grammar::HvtBaseVisitor {
public:
  explicit Builder(Diagnostics &diags) : diags_(diags) {}

  std::unique_ptr<ast::Program> program(P::ProgramContext &ctx) {
    auto program = std::make_unique<ast::Program>();
    if (auto *config = ctx.configBlock())
      for (auto *entry : config->configEntry())
        program->config.push_back(config_entry(entry));
    for (auto *decl : ctx.mapDecl())
      program->map_decls.push_back(map_decl(decl));
    for (auto *probe_ctx : ctx.probe())
      program->probes.push_back(probe(probe_ctx));

    if (ctx.getStart()->getType() != antlr4::Token::EOF) {
      antlr4::ParserRuleContext *last = nullptr;
      if (!ctx.probe().empty())
        last = ctx.probe().back();
      else if (!ctx.mapDecl().empty())
        last = ctx.mapDecl().back();
      else
        last = ctx.configBlock();
      program->range = span(*ctx.getStart(), *last->getStop());
    } else {
      program->range = {{1, 1}, {1, 1}};
    }
    return program;
  }

private:
  Diagnostics &diags_;
  size_t expr_depth_ = 0;
  size_t stmt_depth_ = 0;
  // Visitor results: each visitX stores the node it built here.
  ast::ExprPtr expr_result_;
  ast::StmtPtr stmt_result_;

  template <typename T>
  std::unique_ptr<T> make(antlr4::ParserRuleContext *ctx) {
    auto node = std::make_unique<T>();
    node->range = ctx_range(ctx);
    return node;
  }

  // ---------------------------------------------------------- top level

  ast::ConfigEntry config_entry(P::ConfigEntryContext *ctx) {
    ast::ConfigEntry entry;
    entry.range = ctx_range(ctx);
    entry.key = ctx->key->getText();
    switch (ctx->value->getType()) {
    case P::INT:
      entry.value = std::to_string(integer(*ctx->value));
      break;
    case P::STRING:
      entry.value = string(*ctx->value);
      break;
    default:
      entry.value = ctx->value->getText();
    }
    return entry;
  }

  ast::MapDecl map_decl(P::MapDeclContext *ctx) {
    ast::MapDecl decl;
    decl.range = ctx_range(ctx);
    decl.name = ctx->MAP()->getText();
    decl.storage = ctx->storage->getText();
    decl.max_entries = integer(*ctx->size);
    return decl;
  }

  ast::Probe probe(P::ProbeContext *ctx) {
    ast::Probe probe;
    probe.range = ctx_range(ctx);
    for (auto *point_ctx : ctx->attachPoint()) {
      ast::AttachPoint point;
      point.range = ctx_range(point_ctx);
      point.raw = point_ctx->getStart()->getText();
      size_t begin = 0;
      for (;;) {
        size_t colon = point.raw.find(':', begin);
        point.parts.push_back(point.raw.substr(begin, colon - begin));
        if (colon == std::string::npos)
          break;
        begin = colon + 1;
      }
      probe.attach_points.push_back(std::move(point));
    }
    if (auto *predicate = ctx->predicate())
      probe.predicate = expr(predicate->expr());
    probe.body = block(ctx->block());
    return probe;
  }

  // --------------------------------------------------------- statements

  // `extra` deepens the nesting count for bodies of `else if` chains, which
  // the AST nests even though the source does not.
  ast::StmtList block(P::BlockContext *ctx, size_t extra = 0) {
    stmt_depth_ += 1 + extra;
    if (stmt_depth_ > kMaxNestingDepth) {
      diags_.error(token_range(*ctx->getStart()),
                   "statements nested too deeply (limit " +
                       std::to_string(kMaxNestingDepth) + ")");
      throw NestingLimitReached{};
    }
    ast::StmtList list;
    for (auto *stmt_ctx : ctx->stmts()->stmt()) {
      stmt_ctx->accept(this);
      list.push_back(std::move(stmt_result_));
    }
    stmt_depth_ -= 1 + extra;
    return list;
  }

  // `target op value` is one rule with expression statements (an
  // expression on the left), which keeps the parser's choice of statement
  // to one token of lookahead instead of a scan past the whole left side
  // (docs/performance.md). Only a map or a variable can be assigned.
  antlrcpp::Any visitExprStmt(P::ExprStmtContext *ctx) override {
    if (!ctx->assignOp()) {
      auto node = make<ast::ExprStmt>(ctx);
      node->expr = expr(ctx->expr(0));
      stmt_result_ = std::move(node);
      return {};
    }
    auto *target = dynamic_cast<P::PrimaryExprContext *>(ctx->expr(0));
    P::PrimaryContext *primary = target ? target->primary() : nullptr;
    if (auto *map_ctx = dynamic_cast<P::MapExprContext *>(primary)) {
      auto node = make<ast::AssignMap>(ctx);
      node->map = map(map_ctx->mapRef());
      node->op = assign_op(ctx->assignOp());
      node->value = expr(ctx->expr(1));
      stmt_result_ = std::move(node);
    } else if (auto *var_ctx = dynamic_cast<P::VariableContext *>(primary)) {
      auto node = make<ast::AssignVar>(ctx);
      node->var = std::make_unique<ast::Variable>();
      node->var->range = token_range(*var_ctx->VARIABLE()->getSymbol());
      node->var->name = var_ctx->VARIABLE()->getText();
      node->op = assign_op(ctx->assignOp());
      node->value = expr(ctx->expr(1));
      stmt_result_ = std::move(node);
    } else {
      // As the grammar with separate assignment rules reported it.
      const antlr4::Token &op = *ctx->assignOp()->getStart();
      diags_.error(token_range(op), "unexpected '" + op.getText() + "'");
      auto node = make<ast::ExprStmt>(ctx);
      node->expr = expr(ctx->expr(0));
      stmt_result_ = std::move(node);
    }
    return {};
  }

  static ast::AssignOp assign_op(P::AssignOpContext *ctx) {
    ast::AssignOp op;
    size_t type = ctx->getStart()->getType();
    op.compound = type != P::ASSIGN;
    op.op = op.compound ? binary_op(type) : ast::BinaryOp::Add;
    return op;
  }

  // `if (a) {} else if (b) {} else {}` is a flat list in the parse tree and
  // a chain of Ifs (each `else if` inside the previous else_body) in the AST.
  antlrcpp::Any visitIfStmt(P::IfStmtContext *ctx) override {
    size_t links = ctx->conds.size();
    if (stmt_depth_ + links > kMaxNestingDepth) {
      auto *culprit = ctx->IF(kMaxNestingDepth - stmt_depth_)->getSymbol();
      diags_.error(token_range(*culprit),
                   "statements nested too deeply (limit " +
                       std::to_string(kMaxNestingDepth) + ")");
      throw NestingLimitReached{};
    }
    // Built front to back so diagnostics come out in source order.
    std::vector<std::unique_ptr<ast::If>> chain;
    for (size_t i = 0; i < links; ++i) {
      auto node = std::make_unique<ast::If>();
      node->range = span(*ctx->IF(i)->getSymbol(), *ctx->getStop());
      node->cond = expr(ctx->conds[i]);
      node->then_body = block(ctx->bodies[i], i);
      chain.push_back(std::move(node));
    }
    if (ctx->elseBody)
      chain.back()->else_body = block(ctx->elseBody, links - 1);
    for (size_t i = links - 1; i > 0; --i)
      chain[i - 1]->else_body.push_back(std::move(chain[i]));
    stmt_result_ = std::move(chain.front());
    return {};
  }

  antlrcpp::Any visitWhileStmt(P::WhileStmtContext *ctx) override {
    auto node = make<ast::While>(ctx);
    node->cond = expr(ctx->expr());
    node->body = block(ctx->block());
    stmt_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitUnrollStmt(P::UnrollStmtContext *ctx) override {
    auto node = make<ast::Unroll>(ctx);
    node->count = expr(ctx->expr());
    node->body = block(ctx->block());
    stmt_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitBlockStmt(P::BlockStmtContext *ctx) override {
    auto node = make<ast::BlockStmt>(ctx);
    node->body = block(ctx->block());
    stmt_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitJumpStmt(P::JumpStmtContext *ctx) override {
    auto node = make<ast::Jump>(ctx);
    node->jump = ctx->kind->getType() == P::RETURN  ? ast::JumpKind::Return
                 : ctx->kind->getType() == P::BREAK ? ast::JumpKind::Break
                                                    : ast::JumpKind::Continue;
    stmt_result_ = std::move(node);
    return {};
  }

  // -------------------------------------------------------- expressions

  // `counts` is false for the inside of plain parentheses, which add no AST
  // level (so 1000 nested parentheses stay within the limit).
  ast::ExprPtr expr(P::ExprContext *ctx, bool counts = true) {
    if (counts && ++expr_depth_ > kMaxNestingDepth) {
      diags_.error(token_range(*ctx->getStart()),
                   "expression nested too deeply (limit " +
                       std::to_string(kMaxNestingDepth) + ")");
      throw NestingLimitReached{};
    }
    ctx->accept(this);
    if (counts)
      --expr_depth_;
    return std::move(expr_result_);
  }

  std::vector<ast::ExprPtr> exprs(P::ExprListContext *ctx) {
    std::vector<ast::ExprPtr> list;
    if (ctx)
      for (auto *item : ctx->expr())
        list.push_back(expr(item));
    return list;
  }

  std::unique_ptr<ast::Map> map(P::MapRefContext *ctx) {
    auto node = make<ast::Map>(ctx);
    node->name = ctx->MAP()->getText();
    node->name_range = token_range(*ctx->MAP()->getSymbol());
    node->keys = exprs(ctx->exprList());
    return node;
  }

  antlrcpp::Any visitPrimaryExpr(P::PrimaryExprContext *ctx) override {
    return ctx->primary()->accept(this);
  }

  antlrcpp::Any visitPostfixExpr(P::PostfixExprContext *ctx) override {
    auto node = make<ast::Unary>(ctx);
    node->op = ctx->op->getType() == P::INCREMENT ? ast::UnaryOp::PostIncrement
                                                  : ast::UnaryOp::PostDecrement;
    node->operand = expr(ctx->expr());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitUnaryExpr(P::UnaryExprContext *ctx) override {
    auto node = make<ast::Unary>(ctx);
    node->op = prefix_op(ctx->op->getType());
    node->operand = expr(ctx->expr());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any field(P::ExprContext *ctx, P::ExprContext *object,
                      P::FieldNameContext *name, bool arrow) {
    auto node = make<ast::Field>(ctx);
    node->object = expr(object);
    node->field = name->getStart()->getText();
    node->field_range = ctx_range(name);
    node->arrow = arrow;
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitFieldExpr(P::FieldExprContext *ctx) override {
    return field(ctx, ctx->expr(), ctx->fieldName(), false);
  }

  antlrcpp::Any visitArrowExpr(P::ArrowExprContext *ctx) override {
    return field(ctx, ctx->expr(), ctx->fieldName(), true);
  }

  antlrcpp::Any visitTupleIndexExpr(P::TupleIndexExprContext *ctx) override {
    auto node = make<ast::TupleIndex>(ctx);
    node->object = expr(ctx->expr());
    uint64_t index = integer(*ctx->INT()->getSymbol());
    if (index > UINT32_MAX)
      diags_.error(token_range(*ctx->INT()->getSymbol()),
                   "tuple index too large");
    node->index = static_cast<uint32_t>(index);
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitIndexExpr(P::IndexExprContext *ctx) override {
    auto node = make<ast::Index>(ctx);
    node->object = expr(ctx->expr(0));
    node->index = expr(ctx->expr(1));
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitCastExpr(P::CastExprContext *ctx) override {
    auto node = make<ast::Cast>(ctx);
    auto *type = ctx->castType();
    node->pointers = static_cast<uint32_t>(type->STAR().size());
    auto idents = type->IDENT();
    if (type->INT_TYPE()) {
      node->type_name = type->INT_TYPE()->getText();
      if (node->pointers)
        diags_.error(ctx_range(type), "pointer casts are not supported")
            .hint("integer casts such as (uint32) and casts to kernel struct "
                  "pointers such as (struct sock *) are supported");
    } else {
      bool is_struct = type->STRUCT() != nullptr;
      std::string tag = is_struct ? "struct" : idents[0]->getText();
      node->struct_name = idents.back()->getText();
      node->is_union = tag == "union";
      node->type_name = tag + " " + node->struct_name;
      if (node->pointers)
        node->type_name += " " + std::string(node->pointers, '*');
      if (!is_struct && !node->is_union)
        diags_
            .error(ctx_range(type),
                   "unknown type '" + tag + " " + node->struct_name + "'")
            .hint("casts to integers (uint32) and to kernel struct or union "
                  "pointers (struct sock *) are supported");
      else if (node->pointers == 0)
        diags_
            .error(ctx_range(type),
                   "cannot cast to " + node->type_name + " by value")
            .hint("cast to a pointer instead: (" + node->type_name + " *)");
    }
    node->operand = expr(ctx->expr());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitBinaryExpr(P::BinaryExprContext *ctx) override {
    auto node = make<ast::Binary>(ctx);
    node->op = binary_op(ctx->op->getType());
    node->lhs = expr(ctx->expr(0));
    node->rhs = expr(ctx->expr(1));
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitTernaryExpr(P::TernaryExprContext *ctx) override {
    auto node = make<ast::Ternary>(ctx);
    node->cond = expr(ctx->expr(0));
    node->then_expr = expr(ctx->expr(1));
    node->else_expr = expr(ctx->expr(2));
    expr_result_ = std::move(node);
    return {};
  }

  // ------------------------------------------------------------ primaries

  antlrcpp::Any visitIntLiteral(P::IntLiteralContext *ctx) override {
    auto node = make<ast::IntegerLit>(ctx);
    node->value = integer(*ctx->INT()->getSymbol());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitStringLiteral(P::StringLiteralContext *ctx) override {
    auto node = make<ast::StringLit>(ctx);
    node->value = string(*ctx->STRING()->getSymbol());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitVariable(P::VariableContext *ctx) override {
    auto node = make<ast::Variable>(ctx);
    node->name = ctx->VARIABLE()->getText();
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitPositional(P::PositionalContext *ctx) override {
    auto node = make<ast::Positional>(ctx);
    std::string digits = ctx->POSITIONAL()->getText().substr(1);
    uint64_t index = 0;
    bool fits = true;
    for (char c : digits)
      fits = fits && accumulate(index, 10, c - '0') && index <= INT32_MAX;
    if (!fits)
      diags_.error(node->range, "positional parameter index too large");
    else if (index == 0)
      diags_.error(node->range, "there is no positional parameter $0")
          .hint("positional parameters are numbered from $1; $# is their "
                "count");
    node->index = fits ? static_cast<int>(index) : 0;
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitPositionalCount(P::PositionalCountContext *ctx) override {
    auto node = make<ast::Positional>(ctx);
    node->is_count = true;
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitMapExpr(P::MapExprContext *ctx) override {
    expr_result_ = map(ctx->mapRef());
    return {};
  }

  antlrcpp::Any visitCallExpr(P::CallExprContext *ctx) override {
    auto node = make<ast::Call>(ctx);
    node->name = ctx->IDENT()->getText();
    node->name_range = token_range(*ctx->IDENT()->getSymbol());
    node->args = exprs(ctx->exprList());
    expr_result_ = std::move(node);
    return {};
  }

  antlrcpp::Any visitBuiltin(P::BuiltinContext *ctx) override {
    auto node = make<ast::Builtin>(ctx);
    node->name = ctx->IDENT()->getText();
    expr_result_ = std::move(node);
    return {};
  }

  // `(e)` is just e; `(a, b, ...)` is a tuple.
  antlrcpp::Any visitParenExpr(P::ParenExprContext *ctx) override {
    auto items = ctx->expr();
    if (items.size() == 1) {
      expr_result_ = expr(items[0], /*counts=*/false);
      return {};
    }
    auto node = make<ast::TupleExpr>(ctx);
    for (auto *item : items)
      node->elements.push_back(expr(item));
    expr_result_ = std::move(node);
    return {};
  }

  // -------------------------------------------------------------- literals

  uint64_t integer(const antlr4::Token &token) {
    LiteralError error;
    auto value = parse_integer(token.getText(), error);
    if (value)
      return *value;
    auto &diag = diags_.error(token_range(token), error.message);
    if (!error.hint.empty())
      diag.hint(error.hint);
    return 0;
  }

  std::string string(const antlr4::Token &token) {
    std::string text = token.getText();
    std::string_view body(text);
    body = body.substr(1, body.size() - 2);
    std::vector<EscapeError> errors;
    std::string value = decode_string(body, errors);
    SourceRange token_at = token_range(token);
    for (const auto &error : errors) {
      SourceRange range = token_at;
      range.begin.column += 1 + error.offset;
      range.end.column = range.begin.column + error.length - 1;
      diags_.error(range, error.message).hint(error.hint);
    }
    return value;
  }
};

} // namespace

std::unique_ptr<ast::Program> build_ast(HvtParser::ProgramContext &tree,
                                        Diagnostics &diags) {
  size_t errors_before = diags.error_count();
  std::unique_ptr<ast::Program> program;
  try {
    program = Builder(diags).program(tree);
  } catch (const NestingLimitReached &) {
    return nullptr;
  }
  if (diags.error_count() != errors_before)
    return nullptr;
  return program;
}

} // namespace hvt
