// Program text -> hvt AST. Wraps the ANTLR-generated lexer and parser so that
// every problem becomes an hvt diagnostic in user terms, and so that no input
// (malformed bytes, absurd nesting, endless errors) can crash or flood the
// front end. The tree itself is converted by ast_builder.cpp.
//
// Flow: lex everything -> report lexical errors and check bracket nesting ->
// parse (a fast attempt, then a careful one if that fails; syntax errors are
// collected and reported in source order) -> build the AST.
#include "frontend/parser.h"

#include "frontend/ast_builder.h"

#include "HvtParser.h"
#include "antlr4-runtime.h"
#include "frontend/byte_stream.h"
#include "frontend/lexer.h"

#include <algorithm>
#include <exception>
#include <future>
#include <memory>
#include <set>

#include <pthread.h>
#include <sched.h>

namespace hvt {
namespace {

using hvt_grammar::HvtParser;
using P = HvtParser;
using antlr4::Token;

// Distinct lines with syntax errors we report before giving up.
constexpr size_t kMaxReportedLines = 10;
// Backstop on the parser's own recursion (rule invocations), which costs
// about 250 bytes of stack per level in an optimized build, 1 KB at -O0 and
// up to 4 KB with AddressSanitizer. Real programs stay far below it: 1000
// nested parentheses take 2000 levels, 1000 nested blocks 3000. It stops
// what the bracket check cannot see, such as thousands of prefix operators
// in a row.
constexpr size_t kMaxRuleDepth = 4000;
// The parser runs on a thread with this much stack (reserved, not used), so
// kMaxRuleDepth fits in every build, whatever the caller's stack.
constexpr size_t kParserStackSize = 64 << 20;

// Hands the parser the tokens lex() made, as the generated lexer would.
class LexedTokenSource : public antlr4::TokenSource {
public:
  LexedTokenSource(std::vector<LexedToken> tokens, antlr4::CharStream &input)
      : tokens_(std::move(tokens)), input_(input) {}

  std::unique_ptr<Token> nextToken() override {
    const LexedToken &lexed = tokens_[next_]; // the last one is EOF
    if (next_ + 1 < tokens_.size())
      ++next_;
    auto token = std::make_unique<antlr4::CommonToken>(
        std::pair<antlr4::TokenSource *, antlr4::CharStream *>(this, &input_),
        lexed.type, lexed.channel, lexed.start, lexed.stop);
    token->setLine(lexed.line);
    token->setCharPositionInLine(lexed.column);
    return token;
  }
  size_t getLine() const override { return tokens_[next_].line; }
  size_t getCharPositionInLine() override { return tokens_[next_].column; }
  antlr4::CharStream *getInputStream() override { return &input_; }
  std::string getSourceName() override { return input_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken> *getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

private:
  std::vector<LexedToken> tokens_;
  antlr4::CharStream &input_;
  size_t next_ = 0;
};

// ------------------------------------------------------ error collection

// Thrown to abandon parsing: too many errors, or nesting beyond the limit.
// Not a RecognitionException, so the generated rules let it through.
struct ParseAborted {};

struct SyntaxError {
  SourceRange range;
  std::string message;
  SourceRange note_range;
  std::string note;
};

// Syntax errors arrive out of order (lexical ones first). They are sorted,
// and only the first on each line is kept: later ones on the same line are
// nearly always fallout from it.
class SyntaxErrors {
public:
  // False once more lines have errors than will be reported.
  bool add(SyntaxError error) {
    lines_.insert(error.range.begin.line);
    errors_.push_back(std::move(error));
    return lines_.size() <= kMaxReportedLines;
  }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }

  // Forgets the errors added after the first `count`.
  void truncate(size_t count) {
    errors_.resize(std::min(count, errors_.size()));
    lines_.clear();
    for (const auto &error : errors_)
      lines_.insert(error.range.begin.line);
  }

  void flush(Diagnostics &diags) {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const SyntaxError &a, const SyntaxError &b) {
                       const auto &x = a.range.begin, &y = b.range.begin;
                       return x.line != y.line ? x.line < y.line
                                               : x.column < y.column;
                     });
    uint32_t last_line = 0;
    size_t reported = 0;
    for (auto &error : errors_) {
      if (error.range.begin.line == last_line)
        continue;
      if (reported == kMaxReportedLines) {
        diags.error(SourceRange{}, "too many errors; stopping");
        break;
      }
      last_line = error.range.begin.line;
      ++reported;
      auto &diag = diags.error(error.range, std::move(error.message));
      if (!error.note.empty())
        diag.note(error.note_range, std::move(error.note));
    }
    errors_.clear();
    lines_.clear();
  }

private:
  std::vector<SyntaxError> errors_;
  std::set<uint32_t> lines_;
};

// ----------------------------------------------------------- vocabulary

std::string describe_token(const Token &token) {
  if (token.getType() == Token::EOF)
    return "end of input";
  if (token.getType() == P::STRING)
    return "string literal";
  std::string text = token.getText();
  if (text.size() > 32)
    text = text.substr(0, 29) + "...";
  return "'" + text + "'";
}

// How an expected token is named in "expected ..." lists.
std::string expected_name(size_t type, const antlr4::dfa::Vocabulary &vocab) {
  switch (type) {
  case Token::EOF:
    return "end of input";
  case P::ATTACH_POINT:
    return "attach point";
  case P::IDENT:
    return "identifier";
  case P::MAP:
    return "map";
  case P::VARIABLE:
    return "variable";
  case P::POSITIONAL:
    return "positional parameter";
  case P::INT:
    return "integer";
  case P::STRING:
    return "string literal";
  case P::INT_TYPE:
    return "integer type";
  case P::SLASH:
  case P::PRED_END:
    return "'/'";
  default:
    return vocab.getLiteralName(type); // "'{'", "'if'" ...
  }
}

// Token groups the messages name as one ("expression", "field name").
// Built on first use: only a parse error needs them, and a run served by
// the compile cache must not pay for them at start.
struct TokenGroups {
  std::set<size_t> expression_start, statement_only_start, field_name,
      continuations;
};

const TokenGroups &token_groups() {
  // clang-format off
  static const TokenGroups groups{
    .expression_start = {
        P::INT, P::STRING, P::IDENT, P::VARIABLE, P::POSITIONAL,
        P::POSITIONAL_COUNT, P::MAP, P::LPAREN, P::MINUS, P::NOT, P::BIT_NOT,
        P::STAR, P::INCREMENT, P::DECREMENT},
    .statement_only_start = {
        P::IF, P::WHILE, P::UNROLL, P::RETURN, P::BREAK, P::CONTINUE,
        P::LBRACE},
    // Where a field name may follow `.` or `->`: identifiers and keywords.
    .field_name = {
        P::IDENT, P::INT_TYPE, P::CONFIG, P::LET, P::IF, P::ELSE, P::WHILE,
        P::UNROLL, P::RETURN, P::BREAK, P::CONTINUE, P::STRUCT},
    // Tokens that would continue what came before (`a` -> `a + b`, `a[i]`,
    // `@x = 1`). They are almost never what the user left out.
    .continuations = {
        P::QUESTION, P::DOT, P::ARROW, P::LBRACKET, P::INCREMENT, P::DECREMENT,
        P::ASSIGN, P::PLUS_ASSIGN, P::MINUS_ASSIGN, P::STAR_ASSIGN,
        P::SLASH_ASSIGN, P::PERCENT_ASSIGN, P::AND_ASSIGN, P::OR_ASSIGN,
        P::XOR_ASSIGN, P::SHL_ASSIGN, P::SHR_ASSIGN,
        P::PLUS, P::MINUS, P::STAR, P::SLASH, P::PERCENT, P::SHL, P::SHR,
        P::LT, P::LE, P::GT, P::GE, P::EQ, P::NE,
        P::BIT_AND, P::BIT_OR, P::BIT_XOR, P::LOGICAL_AND, P::LOGICAL_OR}};
  // clang-format on
  return groups;
}

// "';'", "')' or ','", "statement or '}'"; empty when the list would be
// too long to help.
std::string describe_expected(const antlr4::misc::IntervalSet &set,
                              const antlr4::dfa::Vocabulary &vocab) {
  std::set<size_t> types;
  for (ssize_t type : set.toList())
    types.insert(type < 0 ? Token::EOF : static_cast<size_t>(type));
  auto contains_all = [&](const std::set<size_t> &group) {
    return std::includes(types.begin(), types.end(), group.begin(),
                         group.end());
  };
  auto remove_all = [&](const std::set<size_t> &group) {
    for (size_t type : group)
      types.erase(type);
  };

  const TokenGroups &groups = token_groups();
  std::vector<std::string> items;
  if (contains_all(groups.expression_start)) {
    if (contains_all(groups.statement_only_start)) {
      items.push_back("statement");
      remove_all(groups.statement_only_start);
      types.erase(P::SEMI); // an empty statement is allowed, not wanted
    } else {
      items.push_back("expression");
    }
    remove_all(groups.expression_start);
  }
  if (contains_all(groups.field_name)) {
    items.push_back("field name");
    remove_all(groups.field_name);
  }
  // Binary operators are possible exactly after an operand; then none of
  // the continuations is worth listing. ('/' alone at the top level opens a
  // predicate, which is.)
  if (types.count(P::PLUS))
    remove_all(groups.continuations);
  if (types.count(P::ATTACH_POINT))
    types.erase(P::IDENT); // `BEGIN` is an attach point too

  for (size_t type : types) {
    std::string name = expected_name(type, vocab);
    if (!name.empty() &&
        std::find(items.begin(), items.end(), name) == items.end())
      items.push_back(name);
  }
  if (items.empty() || items.size() > 4)
    return "";
  std::string text = items[0];
  for (size_t i = 1; i < items.size(); ++i)
    text += (i + 1 == items.size() ? " or " : ", ") + items[i];
  return text;
}

size_t closer_of(size_t open) {
  return open == P::LPAREN     ? P::RPAREN
         : open == P::LBRACKET ? P::RBRACKET
                               : P::RBRACE;
}

// ---------------------------------------------------------- parse state

// What the lexer, parser and their error hooks share.
class ParseState {
public:
  explicit ParseState(const SourceFile &file) : file_(file) {}

  const SourceFile &file() const { return file_; }
  SyntaxErrors &errors() { return errors_; }

  // Where errors at the end of input point: just past the last token.
  SourceRange end_of_input;
  // The innermost bracket still open at the end of input, if any.
  const Token *unclosed = nullptr;
  // Set by a hook that cannot throw (see ParseAborted): abort at the next
  // rule entry.
  bool stop_requested = false;

  SourceRange range_of(const Token &token) const {
    return token.getType() == Token::EOF ? end_of_input : token_range(token);
  }

  // Records an error; false once there are too many.
  bool add(const Token &token, std::string message, SourceRange note_range = {},
           std::string note = {}) {
    error_tokens_.insert(token.getTokenIndex());
    return errors_.add(
        {range_of(token), std::move(message), note_range, std::move(note)});
  }

  // Whether an error was reported at a token index in [first, last].
  bool has_error_between(size_t first, size_t last) const {
    auto it = error_tokens_.lower_bound(first);
    return it != error_tokens_.end() && *it <= last;
  }

  // Undoes what a failed fast parse recorded (see parse_tree) so that the
  // second parse starts from the lexer's errors only.
  size_t checkpoint() const { return errors_.size(); }
  void rollback(size_t checkpoint) {
    errors_.truncate(checkpoint);
    error_tokens_.clear();
    stop_requested = false;
    next_note_.clear();
  }

  // For the error strategy: the next error reported through the listener
  // carries this note.
  void set_next_note(SourceRange range, std::string text) {
    next_note_range_ = range;
    next_note_ = std::move(text);
  }
  std::pair<SourceRange, std::string> take_next_note() {
    auto note = std::make_pair(next_note_range_, std::move(next_note_));
    next_note_.clear();
    return note;
  }

private:
  const SourceFile &file_;
  SyntaxErrors errors_;
  std::set<size_t> error_tokens_;
  SourceRange next_note_range_;
  std::string next_note_;
};

// Replaces ANTLR's console listener on the parser. Messages arrive already
// worded by ErrorStrategy. (lex() reports nothing itself: its error tokens
// are check_tokens()'s to report.)
class ErrorListener : public antlr4::BaseErrorListener {
public:
  explicit ErrorListener(ParseState &state) : state_(state) {}

  void syntaxError(antlr4::Recognizer *, Token *offending, size_t, size_t,
                   const std::string &message, std::exception_ptr) override {
    auto [note_range, note] = state_.take_next_note();
    bool more_allowed =
        offending ? state_.add(*offending, message, note_range, note)
                  : state_.errors().add({{}, message, note_range, note});
    if (!more_allowed)
      throw ParseAborted{};
  }

private:
  ParseState &state_;
};

// Words ANTLR's error reports as "unexpected X; expected Y". Recovery is
// ANTLR's default (single-token insertion/deletion, then resync).
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  explicit ErrorStrategy(ParseState &state) : state_(state) {}

protected:
  void
  reportNoViableAlternative(antlr4::Parser *parser,
                            const antlr4::NoViableAltException &e) override {
    // When prediction failed beyond the decision's first token, the parser's
    // own expected set describes the wrong place; the configurations that
    // were still alive when it failed know what could have come instead.
    antlr4::misc::IntervalSet expected;
    if (e.getStartToken() == e.getOffendingToken()) {
      expected = parser->getExpectedTokens();
    } else if (auto *alive = e.getDeadEndConfigs()) {
      for (const auto &config : alive->configs)
        for (const auto *transition : config->state->transitions)
          if (!transition->isEpsilon())
            expected.addAll(transition->label());
    }
    report(parser, *e.getOffendingToken(), expected);
  }

  void reportInputMismatch(antlr4::Parser *parser,
                           const antlr4::InputMismatchException &e) override {
    report(parser, *e.getOffendingToken(), e.getExpectedTokens());
  }

  void
  reportFailedPredicate(antlr4::Parser *parser,
                        const antlr4::FailedPredicateException &e) override {
    report(parser, *e.getOffendingToken(), {});
  }

  void reportUnwantedToken(antlr4::Parser *parser) override {
    if (inErrorRecoveryMode(parser))
      return;
    beginErrorCondition(parser);
    report(parser, *parser->getCurrentToken(), getExpectedTokens(parser));
  }

  void reportMissingToken(antlr4::Parser *parser) override {
    if (inErrorRecoveryMode(parser))
      return;
    beginErrorCondition(parser);
    report(parser, *parser->getCurrentToken(), getExpectedTokens(parser));
  }

  // ANTLR recovers from an unexpected token by dropping it if the next one
  // fits. Never drop a ';' or '}': in `@a = ;` that would take the next
  // statement's first token as the missing operand and turn one error into
  // two. Resynchronizing at the ';' instead keeps the next statement intact.
  Token *singleTokenDeletion(antlr4::Parser *parser) override {
    size_t next = parser->getInputStream()->LA(1);
    if (next == P::SEMI || next == P::RBRACE)
      return nullptr;
    return DefaultErrorStrategy::singleTokenDeletion(parser);
  }

private:
  ParseState &state_;

  // After a statement, ANTLR only offers the block's '}', although any
  // statement or operator could have come instead (`x = 1` is not missing a
  // '}'), so that list is not worth showing.
  static bool only_block_end(const antlr4::misc::IntervalSet &expected,
                             const Token &offending) {
    return offending.getType() != Token::EOF && expected.size() == 1 &&
           expected.contains(static_cast<size_t>(P::RBRACE));
  }

  void report(antlr4::Parser *parser, Token &offending,
              const antlr4::misc::IntervalSet &expected) {
    std::string message = "unexpected " + describe_token(offending);
    // Running out of input inside brackets: name the missing closer and
    // point at its opener, like a compiler does.
    const Token *open = state_.unclosed;
    if (offending.getType() == Token::EOF && open &&
        expected.contains(closer_of(open->getType()))) {
      std::string closer =
          expected_name(closer_of(open->getType()), parser->getVocabulary());
      message += "; expected " + closer;
      state_.set_next_note(token_range(*open),
                           "to match this '" + open->getText() + "'");
    } else if (std::string list =
                   describe_expected(expected, parser->getVocabulary());
               !list.empty() && !only_block_end(expected, offending)) {
      message += "; expected " + list;
      explain_path_without_function(parser);
    }
    parser->notifyErrorListeners(&offending, message, nullptr);
  }

  // `uprobe:/bin/sh {` lexes as the attach point `uprobe:` and a predicate
  // `/bin/sh {...`: an attach point part may hold '/' only when another ':'
  // follows. An error inside such a predicate gets a note saying so.
  void explain_path_without_function(antlr4::Parser *parser) {
    antlr4::ParserRuleContext *ctx = parser->getContext();
    while (ctx && ctx->getRuleIndex() != P::RulePredicate)
      ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent);
    if (!ctx || ctx->getStart()->getTokenIndex() == 0)
      return;
    const Token &slash = *ctx->getStart();
    const Token &before =
        *parser->getTokenStream()->get(slash.getTokenIndex() - 1);
    if (before.getType() != P::ATTACH_POINT ||
        before.getStopIndex() + 1 != slash.getStartIndex() ||
        before.getText().back() != ':')
      return;
    state_.set_next_note(token_range(slash),
                         "this '/' starts a predicate: a path in an attach "
                         "point must be followed by ':FUNCTION', as in "
                         "uprobe:/bin/bash:readline");
  }
};

// The generated parser plus a recursion limit (see kMaxRuleDepth).
class GuardedParser : public HvtParser {
public:
  GuardedParser(antlr4::TokenStream *input, ParseState &state)
      : HvtParser(input), state_(state) {}

  using HvtParser::enterRecursionRule;

  void enterRule(antlr4::ParserRuleContext *ctx, size_t atn_state,
                 size_t rule) override {
    check(ctx, rule);
    HvtParser::enterRule(ctx, atn_state, rule);
  }

  void enterRecursionRule(antlr4::ParserRuleContext *ctx, size_t atn_state,
                          size_t rule, int precedence) override {
    check(ctx, rule);
    HvtParser::enterRecursionRule(ctx, atn_state, rule, precedence);
  }

private:
  ParseState &state_;

  void check(antlr4::ParserRuleContext *ctx, size_t rule) {
    if (state_.stop_requested)
      throw ParseAborted{};
    // A new context's parent chain is the rule invocation stack.
    size_t depth = 0;
    for (antlr4::tree::ParseTree *node = ctx; node && depth <= kMaxRuleDepth;
         node = node->parent)
      ++depth;
    if (depth <= kMaxRuleDepth)
      return;
    bool in_expression = rule == RuleExpr || rule == RulePrimary ||
                         rule == RuleExprList || rule == RuleMapRef;
    state_.add(*getCurrentToken(),
               std::string(in_expression ? "expression" : "statements") +
                   " nested too deeply (limit " +
                   std::to_string(kMaxNestingDepth) + ")");
    throw ParseAborted{};
  }
};

// A simple statement must be followed by ';' unless it is the last one in
// its block. The grammar accepts statements back to back so that this check
// can say exactly that. Runs as the parser exits each `stmts` rule; it is
// called from a destructor, so it must not throw.
class SeparatorCheck : public antlr4::tree::ParseTreeListener {
public:
  explicit SeparatorCheck(ParseState &state) : state_(state) {}

  void enterEveryRule(antlr4::ParserRuleContext *) override {}
  void visitTerminal(antlr4::tree::TerminalNode *) override {}
  void visitErrorNode(antlr4::tree::ErrorNode *) override {}

  void exitEveryRule(antlr4::ParserRuleContext *ctx) override {
    if (ctx->getRuleIndex() != P::RuleStmts)
      return;
    const auto &children = ctx->children;
    for (size_t i = 0; i + 1 < children.size(); ++i) {
      auto *current = dynamic_cast<P::StmtContext *>(children[i]);
      auto *next = dynamic_cast<P::StmtContext *>(children[i + 1]);
      if (!current || !next || needs_no_separator(current))
        continue;
      // A statement that failed to parse may really be the tail of this
      // one (`foo(1 2)` parses as `foo` then `(1 2)`): its own error says
      // more than a missing ';' would. Errors found at the token after it
      // (`foo("x"` at the end of input) belong to it too.
      const Token &start = *next->getStart();
      size_t end = i + 2 < children.size()
                       ? children[i + 2]->getSourceInterval().a
                       : ctx->getStop()->getTokenIndex() + 1;
      if (current->exception || next->exception ||
          state_.has_error_between(start.getTokenIndex(), end))
        continue;
      if (!state_.add(start,
                      "unexpected " + describe_token(start) + "; expected ';'"))
        state_.stop_requested = true;
    }
  }

private:
  ParseState &state_;

  static bool needs_no_separator(P::StmtContext *stmt) {
    return dynamic_cast<P::IfStmtContext *>(stmt) ||
           dynamic_cast<P::WhileStmtContext *>(stmt) ||
           dynamic_cast<P::UnrollStmtContext *>(stmt) ||
           dynamic_cast<P::BlockStmtContext *>(stmt);
  }
};

// ------------------------------------------------------- token checks

// Reports the lexer's error tokens and checks bracket nesting. Also records
// where the input ends and which bracket is left open there. Returns false
// if the tokens cannot be parsed meaningfully.
bool check_tokens(const std::vector<Token *> &tokens, ParseState &state) {
  const std::string &text = state.file().text();
  bool parseable = true;
  std::vector<const Token *> open;
  size_t open_braces = 0; // the rest of `open` are '(' and '['
  const Token *last = nullptr;
  size_t covered_until = 0; // bytes already shown in an earlier message

  for (const Token *token : tokens) {
    SourceRange range = token_range(*token);
    switch (token->getType()) {
    case P::STRAY_CHAR: {
      size_t offset = token->getStartIndex();
      if (offset < covered_until)
        break; // the rest of a multi-byte character
      size_t length = 1;
      std::string shown = describe_char(text, offset, length);
      covered_until = offset + length;
      range.end.column = range.begin.column + length - 1;
      state.errors().add(
          {range, "unexpected character '" + shown + "'", {}, {}});
      break;
    }
    case P::UNTERMINATED_STRING:
      state.errors().add({range, "unterminated string literal", {}, {}});
      parseable = false;
      break;
    case P::UNTERMINATED_COMMENT:
      range.end.column = range.begin.column + 1; // just the `/*`
      range.end.line = range.begin.line;
      state.errors().add({range, "unterminated comment", {}, {}});
      parseable = false;
      break;
    case P::LPAREN:
    case P::LBRACKET:
    case P::LBRACE: {
      bool brace = token->getType() == P::LBRACE;
      open.push_back(token);
      open_braces += brace;
      size_t depth = brace ? open_braces : open.size() - open_braces;
      if (depth > kMaxNestingDepth && parseable) {
        state.errors().add({range,
                            std::string(brace ? "statements" : "expression") +
                                " nested too deeply (limit " +
                                std::to_string(kMaxNestingDepth) + ")",
                            {},
                            {}});
        parseable = false;
      }
      break;
    }
    case P::RPAREN:
    case P::RBRACKET:
    case P::RBRACE:
      // A mismatched closer is the parser's to report; keep the opener.
      if (!open.empty() &&
          closer_of(open.back()->getType()) == token->getType()) {
        open_braces -= open.back()->getType() == P::LBRACE;
        open.pop_back();
      }
      break;
    default:
      break;
    }
    if (token->getChannel() == Token::DEFAULT_CHANNEL &&
        token->getType() != Token::EOF)
      last = token;
  }

  state.end_of_input = {{1, 1}, {1, 1}};
  if (last) {
    SourceLocation after = token_range(*last).end;
    ++after.column;
    state.end_of_input = {after, after};
  }
  state.unclosed = open.empty() ? nullptr : open.back();
  return parseable;
}

// ANTLR predicts a decision that one token cannot settle by building DFA
// states from nothing in every process; two of them cost more than half of
// a script's parse (docs/performance.md). The SLL parse answers those from
// the next tokens instead, exactly as ANTLR's SLL prediction answers them
// on every input that parse accepts (parser_prediction_test.cpp compares
// the trees on every test program). Input it does not accept goes to the
// full LL parse, which keeps ANTLR's own prediction and messages.
//  - primary: the token picks the alternative; a name followed by '(' is a
//    call (a name followed by a parenthesized statement is the same tokens:
//    SLL takes the first alternative, the call).
//  - mapRef: '[' after a map starts its keys (an index of the map accepts
//    nothing more), anything else ends the map reference.
class ShortcutPredictor : public antlr4::atn::ParserATNSimulator {
public:
  ShortcutPredictor(antlr4::Parser *parser,
                    antlr4::atn::ParserATNSimulator &generated)
      : ParserATNSimulator(parser, parser->getATN(), generated.decisionToDFA,
                           generated.getSharedContextCache()) {}

  size_t adaptivePredict(antlr4::TokenStream *input, size_t decision,
                         antlr4::ParserRuleContext *outer) override {
    const Decisions &known = decisions(atn);
    if (decision == known.primary) {
      switch (input->LA(1)) {
      case P::INT:
        return 1;
      case P::STRING:
        return 2;
      case P::VARIABLE:
        return 3;
      case P::POSITIONAL:
        return 4;
      case P::POSITIONAL_COUNT:
        return 5;
      case P::MAP:
        return 6;
      case P::IDENT:
        return input->LA(2) == P::LPAREN ? 7 : 8;
      case P::LPAREN:
        return 9;
      default:
        break;
      }
    } else if (decision == known.map_keys) {
      return input->LA(1) == P::LBRACKET ? 1 : 2;
    }
    return ParserATNSimulator::adaptivePredict(input, decision, outer);
  }

private:
  static constexpr size_t kNone = ~size_t{0};
  struct Decisions {
    size_t primary = kNone;  // the choice among primary's 9 alternatives
    size_t map_keys = kNone; // mapRef's optional `[ keys ]`
  };
  // Found in the ATN, so a grammar edit cannot make a shortcut answer
  // another decision: a rule of another shape gets no shortcut.
  static const Decisions &decisions(const antlr4::atn::ATN &atn) {
    static const Decisions found = [&] {
      Decisions d;
      for (size_t i = 0; i < atn.getNumberOfDecisions(); ++i) {
        antlr4::atn::DecisionState *state = atn.getDecisionState(i);
        if (state->ruleIndex == P::RulePrimary &&
            state->transitions.size() == 9)
          d.primary = i;
        if (state->ruleIndex == P::RuleMapRef && state->transitions.size() == 2)
          d.map_keys = i;
      }
      return d;
    }();
    return found;
  }
};

// The first, fast parse: SLL prediction (with the shortcuts unless a test
// compares without them), giving up at the first error.
void set_up_sll_parse(GuardedParser &parser, bool shortcuts = true) {
  parser.removeErrorListeners();
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  if (shortcuts) {
    auto *generated = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
    // Deletes the generated simulator; the parser's destructor deletes this.
    parser.setInterpreter(new ShortcutPredictor(&parser, *generated));
  }
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
}

// Parses the tokens. The first attempt uses SLL prediction and gives up at
// the first error: for valid programs that is several times faster than full
// LL prediction (the loose statement grammar makes `a -b` ambiguous, which
// sends LL into full-context prediction). If it fails, whether on a real
// error or on the rare input SLL cannot handle, a second parse with full LL
// prediction and error recovery produces the tree or the diagnostics. The
// parsers own the tree, so they are returned in `parsers`.
P::ProgramContext *
parse_tree(antlr4::CommonTokenStream &tokens, ParseState &state,
           ErrorListener &listener, SeparatorCheck &separators,
           std::vector<std::unique_ptr<GuardedParser>> &parsers) {
  auto &fast =
      *parsers.emplace_back(std::make_unique<GuardedParser>(&tokens, state));
  set_up_sll_parse(fast);
  fast.addParseListener(&separators);
  size_t checkpoint = state.checkpoint();
  try {
    return fast.program();
  } catch (const antlr4::ParseCancellationException &) {
  }

  state.rollback(checkpoint);
  tokens.seek(0);
  auto &full =
      *parsers.emplace_back(std::make_unique<GuardedParser>(&tokens, state));
  full.removeErrorListeners();
  full.addErrorListener(&listener);
  full.setErrorHandler(std::make_shared<ErrorStrategy>(state));
  full.addParseListener(&separators);
  return full.program();
}

} // namespace

bool with_parser_stack(const std::function<void()> &work,
                       const std::function<void()> &meanwhile,
                       const std::function<void()> &afterwards) {
  // Owned by the thread, which is detached: the caller waits for `done`,
  // not for the thread's exit. Joining it cost ~0.2 ms of every compile
  // (the kernel ending the thread, then its 64 MiB stack unmapped), after
  // the work itself was done.
  struct Call {
    const std::function<void()> *work; // the caller's: it waits for `done`
    std::function<void()> afterwards;  // a copy: the caller does not wait
    std::promise<void> done;
    cpu_set_t allowed; // the process's CPUs, when the thread was pinned
    bool pinned = false;
  };
  auto call = std::make_unique<Call>();
  call->work = &work;
  call->afterwards = afterwards;
  std::future<void> done = call->done.get_future();
  auto entry = [](void *arg) -> void * {
    std::unique_ptr<Call> c(static_cast<Call *>(arg));
    if (c->pinned) // running elsewhere now: free to move again
      pthread_setaffinity_np(pthread_self(), sizeof c->allowed, &c->allowed);
    try {
      (*c->work)();
      c->done.set_value();
    } catch (...) {
      c->done.set_exception(std::current_exception());
      return nullptr;
    }
    if (c->afterwards)
      c->afterwards();
    return nullptr;
  };
  pthread_attr_t attributes;
  pthread_t thread;
  bool started =
      pthread_attr_init(&attributes) == 0 &&
      pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED) == 0;
  // The new thread starts on another CPU than this one, which goes on
  // working: left to the scheduler it was placed beside its creator and,
  // on these VMs, moved to the idle CPU only 1-3 ms later (measured), so
  // the two halves of the work did not overlap (docs/performance.md).
  int here = sched_getcpu();
  if (started && here >= 0 &&
      sched_getaffinity(0, sizeof call->allowed, &call->allowed) == 0 &&
      CPU_ISSET(here, &call->allowed) && CPU_COUNT(&call->allowed) > 1) {
    cpu_set_t elsewhere = call->allowed;
    CPU_CLR(here, &elsewhere);
    call->pinned = pthread_attr_setaffinity_np(&attributes, sizeof elsewhere,
                                               &elsewhere) == 0;
  }
  started = started &&
            pthread_attr_setstacksize(&attributes, kParserStackSize) == 0 &&
            pthread_create(&thread, &attributes, entry, call.get()) == 0;
  pthread_attr_destroy(&attributes);
  if (!started) {
    work();
    if (meanwhile)
      meanwhile();
    return false;
  }
  call.release(); // the thread's now
  if (meanwhile) {
    try {
      meanwhile();
    } catch (...) {
      done.wait(); // `work` may use what the unwinding would destroy
      throw;
    }
  }
  done.get(); // rethrows what `work` threw
  return true;
}

std::unique_ptr<ast::Program> parse_program_here(const SourceFile &file,
                                                 Diagnostics &diags) {
  ParseState state(file);
  ErrorListener listener(state);
  ByteStream input(file.text(), file.name());
  LexedTokenSource lexed(lex(file.text()), input);
  antlr4::CommonTokenStream tokens(&lexed);

  try {
    tokens.fill();
    if (!check_tokens(tokens.getTokens(), state)) {
      state.errors().flush(diags);
      return nullptr;
    }

    SeparatorCheck separators(state);
    std::vector<std::unique_ptr<GuardedParser>> parsers;
    P::ProgramContext *tree = nullptr;
    try {
      tree = parse_tree(tokens, state, listener, separators, parsers);
    } catch (const ParseAborted &) {
    }
    if (!tree || !state.errors().empty()) {
      state.errors().flush(diags);
      return nullptr;
    }

    // The tree belongs to the parser, so build while it is alive.
    auto program = build_ast(*tree, diags);
    if (tree->probe().empty()) {
      diags.error(state.end_of_input, "no probes in program")
          .hint("a probe looks like: kprobe:vfs_read { @reads = count(); }");
      return nullptr;
    }
    return program;
  } catch (const ParseAborted &) {
    state.errors().flush(diags); // too many errors
  } catch (const std::exception &e) {
    // ANTLR's own exceptions; not expected, but never fatal to the caller.
    state.errors().flush(diags);
    diags.error(SourceRange{},
                std::string("internal parser error: ") + e.what());
  }
  return nullptr;
}

std::unique_ptr<ast::Program> parse_program(const SourceFile &file,
                                            Diagnostics &diags) {
  std::unique_ptr<ast::Program> program;
  with_parser_stack([&] { program = parse_program_here(file, diags); });
  return program;
}

ast::ExprPtr parse_expression(const std::string &text, std::string &error) {
  // A statement of a BEGIN probe; a newline ends a `//` comment in `text`.
  SourceFile wrapped("macro", "BEGIN{" + text + "\n}");
  Diagnostics diags;
  // The front end already runs on the parser's big stack (pipeline.cpp).
  auto program = parse_program_here(wrapped, diags);
  if (diags.has_errors() || !program) {
    error = diags.all().empty() ? "not an expression" : diags.all()[0].message;
    return nullptr;
  }
  auto &body = program->probes.front().body;
  auto *stmt = program->probes.size() == 1 && body.size() == 1
                   ? body[0]->as<ast::ExprStmt>()
                   : nullptr;
  if (!stmt) {
    error = "not a single expression";
    return nullptr;
  }
  return std::move(stmt->expr);
}

std::string sll_parse_tree_for_testing(const std::string &text,
                                       bool shortcuts) {
  std::string tree;
  with_parser_stack([&] {
    SourceFile file("test", text);
    ParseState state(file);
    ByteStream input(file.text(), file.name());
    LexedTokenSource lexed(lex(file.text()), input);
    antlr4::CommonTokenStream tokens(&lexed);
    tokens.fill();
    GuardedParser parser(&tokens, state);
    set_up_sll_parse(parser, shortcuts);
    try {
      tree = parser.program()->toStringTree(&parser);
    } catch (const antlr4::ParseCancellationException &) {
    } catch (const ParseAborted &) {
    }
  });
  return tree;
}

} // namespace hvt
