#include "frontend/lexer.h"

#include "HvtLexer.h"

#include <array>
#include <string_view>

namespace hvt {

namespace {

using L = hvt_grammar::HvtLexer;

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}
// ATTACH_CHAR in the grammar.
bool is_attach_char(char c) {
  switch (c) {
  case '.':
  case '-':
  case '+':
  case '*':
  case '?':
  case '[':
  case ']':
  case '#':
    return true;
  default:
    return is_ident_char(c);
  }
}

size_t keyword_type(std::string_view word) {
  struct Keyword {
    std::string_view text;
    size_t type;
  };
  static constexpr std::array<Keyword, 18> kKeywords{{
      {"config", L::CONFIG},
      {"let", L::LET},
      {"if", L::IF},
      {"else", L::ELSE},
      {"while", L::WHILE},
      {"unroll", L::UNROLL},
      {"return", L::RETURN},
      {"break", L::BREAK},
      {"continue", L::CONTINUE},
      {"struct", L::STRUCT},
      {"int8", L::INT_TYPE},
      {"int16", L::INT_TYPE},
      {"int32", L::INT_TYPE},
      {"int64", L::INT_TYPE},
      {"uint8", L::INT_TYPE},
      {"uint16", L::INT_TYPE},
      {"uint32", L::INT_TYPE},
      {"uint64", L::INT_TYPE},
  }};
  for (const Keyword &keyword : kKeywords)
    if (keyword.text == word)
      return keyword.type;
  return L::IDENT;
}

class Lexer {
public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<LexedToken> run() {
    while (pos_ < text_.size())
      next();
    LexedToken eof{antlr4::Token::EOF,
                   antlr4::Token::DEFAULT_CHANNEL,
                   pos_,
                   pos_ - 1,
                   line_,
                   column_};
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

private:
  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  bool has(size_t i) const { return i < text_.size(); }

  // Moves to `end`, keeping the line and column as ANTLR counts them.
  void advance_to(size_t end) {
    for (; pos_ < end; ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        column_ = 0;
      } else {
        ++column_;
      }
    }
  }
  void emit(size_t type, size_t end,
            size_t channel = antlr4::Token::DEFAULT_CHANNEL) {
    tokens_.push_back({type, channel, pos_, end - 1, line_, column_});
    advance_to(end);
  }
  void emit_hidden(size_t type, size_t end) {
    emit(type, end, antlr4::Token::HIDDEN_CHANNEL);
  }
  size_t skip_while(size_t i, bool (*accept)(char)) const {
    while (has(i) && accept(text_[i]))
      ++i;
    return i;
  }
  size_t line_end(size_t i) const {
    while (has(i) && text_[i] != '\n' && text_[i] != '\r')
      ++i;
    return i;
  }

  bool at_top_level() const { return brace_depth_ == 0 && !in_predicate_; }

  // The grammar's slashEndsPredicate(): the '/' at pos_ ends a predicate
  // when the next thing after it, past blanks and comments, is '{'.
  bool slash_ends_predicate() const {
    if (!in_predicate_ || brace_depth_ != 0)
      return false;
    size_t i = pos_ + 1;
    while (i < text_.size()) {
      char c = text_[i];
      if (is_blank(c)) {
        ++i;
      } else if (text_.compare(i, 2, "//") == 0) {
        i = text_.find('\n', i);
      } else if (text_.compare(i, 2, "/*") == 0) {
        i = text_.find("*/", i + 2);
        if (i != std::string_view::npos)
          i += 2;
      } else {
        return c == '{';
      }
    }
    return false;
  }

  void next() {
    char c = text_[pos_];
    if (is_blank(c)) {
      advance_to(skip_while(pos_, is_blank));
      return;
    }
    if (is_ident_start(c))
      return word();
    if (is_digit(c))
      return emit(L::INT, number_end());
    switch (c) {
    case '"':
      return string();
    case '/':
      return slash();
    case '#':
      if (pos_ == 0 && at(1) == '!') // SHEBANG
        return advance_to(line_end(pos_));
      return emit_hidden(L::STRAY_CHAR, pos_ + 1);
    case '@': {
      size_t end = pos_ + 1;
      if (is_ident_start(at(end)))
        end = skip_while(end, is_ident_char);
      return emit(L::MAP, end);
    }
    case '$':
      if (at(pos_ + 1) == '#')
        return emit(L::POSITIONAL_COUNT, pos_ + 2);
      if (is_digit(at(pos_ + 1)))
        return emit(L::POSITIONAL, skip_while(pos_ + 1, is_digit));
      if (is_ident_start(at(pos_ + 1)))
        return emit(L::VARIABLE, skip_while(pos_ + 1, is_ident_char));
      return emit_hidden(L::STRAY_CHAR, pos_ + 1);
    case '{':
      emit(L::LBRACE, pos_ + 1);
      ++brace_depth_;
      in_predicate_ = false;
      return;
    case '}':
      emit(L::RBRACE, pos_ + 1);
      if (brace_depth_ > 0)
        --brace_depth_;
      return;
    default:
      return operator_token();
    }
  }

  // A keyword, an identifier or, at the top level, an attach point.
  void word() {
    size_t end = skip_while(pos_ + 1, is_ident_char);
    if (at(end) == ':' && at_top_level()) {
      // `(':' (ATTACH_CHAR | '/')*)* ':' ATTACH_CHAR*`: the longest run of
      // those characters, cut before a '/' that follows the last ':'.
      size_t run_end = end;
      size_t last_colon = end;
      while (has(run_end) && (is_attach_char(text_[run_end]) ||
                              text_[run_end] == '/' || text_[run_end] == ':')) {
        if (text_[run_end] == ':')
          last_colon = run_end;
        ++run_end;
      }
      size_t slash = text_.find('/', last_colon);
      return emit(L::ATTACH_POINT, slash < run_end ? slash : run_end);
    }
    emit(keyword_type(text_.substr(pos_, end - pos_)), end);
  }

  // The end of the longest INT at pos_ (a digit).
  size_t number_end() const {
    auto digits_end = [&](size_t i) { // DIGITS: [0-9] [0-9_]*
      return skip_while(i + 1, [](char c) { return is_digit(c) || c == '_'; });
    };
    // [eE] [+-]? DIGITS at i, or 0 when there is none.
    auto exponent_end = [&](size_t i) -> size_t {
      if (at(i) != 'e' && at(i) != 'E')
        return 0;
      ++i;
      if (at(i) == '+' || at(i) == '-')
        ++i;
      return is_digit(at(i)) ? digits_end(i) : 0;
    };
    size_t whole = digits_end(pos_);
    size_t best = whole;
    if (text_[pos_] == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X'))
      best = std::max(best, skip_while(pos_ + 2, [](char c) {
                        return is_hex_digit(c) || c == '_';
                      }));
    best = std::max(best, exponent_end(whole));
    if (at(whole) == '.' && is_digit(at(whole + 1)))
      best = std::max(best, exponent_end(digits_end(whole + 1)));
    return best;
  }

  // STRING, or UNTERMINATED_STRING when the line or the text ends first.
  void string() {
    size_t i = pos_ + 1;
    while (has(i)) {
      char c = text_[i];
      if (c == '"')
        return emit(L::STRING, i + 1);
      if (c == '\r' || c == '\n')
        break;
      if (c == '\\') {
        if (!has(i + 1) || text_[i + 1] == '\r' || text_[i + 1] == '\n') {
          ++i; // the unterminated form keeps a trailing backslash
          break;
        }
        i += 2;
      } else {
        ++i;
      }
    }
    emit_hidden(L::UNTERMINATED_STRING, i);
  }

  void slash() {
    char second = at(pos_ + 1);
    if (second == '/') // LINE_COMMENT
      return advance_to(line_end(pos_));
    if (second == '*') {
      size_t close = text_.find("*/", pos_ + 2);
      if (close != std::string_view::npos)
        return advance_to(close + 2);
      return emit_hidden(L::UNTERMINATED_COMMENT, text_.size());
    }
    if (second == '=')
      return emit(L::SLASH_ASSIGN, pos_ + 2);
    if (slash_ends_predicate())
      return emit(L::PRED_END, pos_ + 1);
    if (brace_depth_ == 0)
      in_predicate_ = true;
    emit(L::SLASH, pos_ + 1);
  }

  void operator_token() {
    char c = text_[pos_];
    char second = at(pos_ + 1);
    // `c` alone, `c=` (when `with_equals` is a type) or `cc` (when
    // `doubled_char` is `c`), whichever is longest.
    auto one_of = [&](size_t alone, char doubled_char, size_t doubled,
                      size_t with_equals) {
      if (second == '=' && with_equals)
        return emit(with_equals, pos_ + 2);
      if (doubled_char && second == doubled_char)
        return emit(doubled, pos_ + 2);
      emit(alone, pos_ + 1);
    };
    switch (c) {
    case '(':
      return emit(L::LPAREN, pos_ + 1);
    case ')':
      return emit(L::RPAREN, pos_ + 1);
    case '[':
      return emit(L::LBRACKET, pos_ + 1);
    case ']':
      return emit(L::RBRACKET, pos_ + 1);
    case ';':
      return emit(L::SEMI, pos_ + 1);
    case ',':
      return emit(L::COMMA, pos_ + 1);
    case ':':
      return emit(L::COLON, pos_ + 1);
    case '?':
      return emit(L::QUESTION, pos_ + 1);
    case '.':
      return emit(L::DOT, pos_ + 1);
    case '~':
      return emit(L::BIT_NOT, pos_ + 1);
    case '-':
      if (second == '>')
        return emit(L::ARROW, pos_ + 2);
      return one_of(L::MINUS, '-', L::DECREMENT, L::MINUS_ASSIGN);
    case '+':
      return one_of(L::PLUS, '+', L::INCREMENT, L::PLUS_ASSIGN);
    case '*':
      return one_of(L::STAR, 0, 0, L::STAR_ASSIGN);
    case '%':
      return one_of(L::PERCENT, 0, 0, L::PERCENT_ASSIGN);
    case '&':
      return one_of(L::BIT_AND, '&', L::LOGICAL_AND, L::AND_ASSIGN);
    case '|':
      return one_of(L::BIT_OR, '|', L::LOGICAL_OR, L::OR_ASSIGN);
    case '^':
      return one_of(L::BIT_XOR, 0, 0, L::XOR_ASSIGN);
    case '=':
      return one_of(L::ASSIGN, '=', L::EQ, 0);
    case '!':
      return one_of(L::NOT, 0, 0, L::NE);
    case '<':
      if (second == '<')
        return at(pos_ + 2) == '=' ? emit(L::SHL_ASSIGN, pos_ + 3)
                                   : emit(L::SHL, pos_ + 2);
      return one_of(L::LT, 0, 0, L::LE);
    case '>':
      if (second == '>')
        return at(pos_ + 2) == '=' ? emit(L::SHR_ASSIGN, pos_ + 3)
                                   : emit(L::SHR, pos_ + 2);
      return one_of(L::GT, 0, 0, L::GE);
    default:
      return emit_hidden(L::STRAY_CHAR, pos_ + 1);
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t column_ = 0;
  int brace_depth_ = 0;
  bool in_predicate_ = false;
  std::vector<LexedToken> tokens_;
};

} // namespace

std::vector<LexedToken> lex(std::string_view text) { return Lexer(text).run(); }

} // namespace hvt
