#include "passes/print_fmt.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace hvt::printfmt {

namespace {

// ------------------------------------------------------------------- lexer

enum class Tok : uint8_t { End, Number, String, Char, Ident, Punct, Bad };

struct Token {
  Tok kind = Tok::End;
  std::string text; // as written (Punct, Ident, Number) or decoded (String)
  size_t begin = 0, end = 0;
};

// Thrown inside this file only; every public entry point catches it.
struct SyntaxError {
  std::string message;
};

char decode_escape(std::string_view s, size_t &i) {
  // s[i] is the character after the backslash; leaves i on the last one used.
  char c = s[i];
  switch (c) {
  case 'n':
    return '\n';
  case 't':
    return '\t';
  case 'r':
    return '\r';
  case 'a':
    return '\a';
  case 'b':
    return '\b';
  case 'f':
    return '\f';
  case 'v':
    return '\v';
  case 'x': {
    int value = 0, digits = 0;
    while (i + 1 < s.size() && digits < 2 &&
           isxdigit(static_cast<unsigned char>(s[i + 1]))) {
      char h = s[++i];
      value = value * 16 + (isdigit(static_cast<unsigned char>(h))
                                ? h - '0'
                                : (tolower(h) - 'a' + 10));
      ++digits;
    }
    return static_cast<char>(value);
  }
  default:
    if (c >= '0' && c <= '7') {
      int value = c - '0';
      for (int n = 1;
           n < 3 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++n)
        value = value * 8 + (s[++i] - '0');
      return static_cast<char>(value);
    }
    return c; // \\ \" \' \?
  }
}

std::vector<Token> tokenize(std::string_view s) {
  static const char *const kPuncts[] = {
      "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--"};
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (isspace(c)) {
      ++i;
      continue;
    }
    Token t;
    t.begin = i;
    if (c == '"' || c == '\'') {
      t.kind = c == '"' ? Tok::String : Tok::Char;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != static_cast<char>(c); ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          ++j;
          t.text += decode_escape(s, j);
        } else {
          t.text += s[j];
        }
      }
      if (j >= s.size())
        throw SyntaxError{"unterminated literal"};
      i = j + 1;
    } else if (isdigit(c)) {
      t.kind = Tok::Number;
      size_t j = i;
      while (j < s.size() &&
             (isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.'))
        ++j;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (isalpha(c) || c == '_') {
      t.kind = Tok::Ident;
      size_t j = i;
      while (j < s.size() &&
             (isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_'))
        ++j;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else {
      t.kind = Tok::Punct;
      for (const char *p : kPuncts)
        if (s.substr(i, 2) == p)
          t.text = p;
      if (t.text.empty()) {
        if (!strchr("+-*/%&|^!~<>?:,(){}[].=;", c))
          t.kind = Tok::Bad;
        t.text = std::string(1, static_cast<char>(c));
      }
      i += t.text.size();
    }
    t.end = i;
    tokens.push_back(std::move(t));
  }
  Token end;
  end.begin = end.end = s.size();
  tokens.push_back(end);
  return tokens;
}

// ------------------------------------------------------------------ parser

const std::set<std::string> &type_words() {
  static const std::set<std::string> words = {
      "void",   "char",     "short",  "int",    "long",   "signed", "unsigned",
      "bool",   "_Bool",    "float",  "double", "struct", "union",  "enum",
      "const",  "volatile", "u8",     "u16",    "u32",    "u64",    "s8",
      "s16",    "s32",      "s64",    "__u8",   "__u16",  "__u32",  "__u64",
      "__s8",   "__s16",    "__s32",  "__s64",  "__le16", "__le32", "__le64",
      "__be16", "__be32",   "__be64", "__force"};
  return words;
}

class Parser {
public:
  Parser(const std::vector<Token> &tokens, std::string_view source,
         size_t begin, size_t end)
      : t_(tokens), src_(source), pos_(begin), end_(end) {}

  NodePtr expression() { return ternary(); }
  bool done() const { return pos_ >= end_; }

private:
  const Token &peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < end_ ? t_[i] : t_.back();
  }
  bool is_punct(const char *p, size_t ahead = 0) const {
    const Token &t = peek(ahead);
    return t.kind == Tok::Punct && t.text == p;
  }
  void expect(const char *p) {
    if (!is_punct(p))
      throw SyntaxError{std::string("expected '") + p + "'"};
    ++pos_;
  }
  std::shared_ptr<Node> make(NodeKind kind, size_t first) const {
    auto node = std::make_shared<Node>();
    node->kind = kind;
    size_t last = pos_ > first ? pos_ - 1 : first;
    node->source = std::string(
        src_.substr(t_[first].begin, t_[last].end - t_[first].begin));
    return node;
  }

  NodePtr ternary() {
    size_t first = pos_;
    NodePtr cond = binary(1);
    if (!is_punct("?"))
      return cond;
    ++pos_;
    NodePtr then_expr = ternary();
    expect(":");
    NodePtr else_expr = ternary();
    auto node = make(NodeKind::Ternary, first);
    node->children = {cond, then_expr, else_expr};
    return node;
  }

  static int precedence(const Token &t) {
    if (t.kind != Tok::Punct)
      return 0;
    static const std::map<std::string, int> levels = {
        {"||", 1}, {"&&", 2}, {"|", 3},  {"^", 4},  {"&", 5},  {"==", 6},
        {"!=", 6}, {"<", 7},  {"<=", 7}, {">", 7},  {">=", 7}, {"<<", 8},
        {">>", 8}, {"+", 9},  {"-", 9},  {"*", 10}, {"/", 10}, {"%", 10}};
    auto it = levels.find(t.text);
    return it == levels.end() ? 0 : it->second;
  }

  NodePtr binary(int min_level) {
    size_t first = pos_;
    NodePtr lhs = unary();
    for (;;) {
      int level = precedence(peek());
      if (level == 0 || level < min_level)
        return lhs;
      std::string op = peek().text;
      ++pos_;
      NodePtr rhs = binary(level + 1);
      auto node = make(NodeKind::Binary, first);
      node->text = op;
      node->children = {lhs, rhs};
      lhs = node;
    }
  }

  // "(unsigned long)", "( gfp_t)", "(struct page *)": a parenthesized list
  // of names and '*' that reads as a type.
  bool at_cast() const {
    if (!is_punct("("))
      return false;
    size_t i = 1, names = 0;
    bool pointer = false, typeish = false;
    for (;; ++i) {
      const Token &t = peek(i);
      if (t.kind == Tok::Ident) {
        ++names;
        typeish |= type_words().count(t.text) != 0 ||
                   (t.text.size() > 2 &&
                    t.text.compare(t.text.size() - 2, 2, "_t") == 0);
      } else if (t.kind == Tok::Punct && t.text == "*") {
        pointer = true;
      } else {
        break;
      }
    }
    return names > 0 && is_punct(")", i) && (typeish || pointer || names > 1);
  }

  NodePtr unary() {
    size_t first = pos_;
    const Token &t = peek();
    if (t.kind == Tok::Punct &&
        (t.text == "-" || t.text == "+" || t.text == "!" || t.text == "~" ||
         t.text == "*" || t.text == "&")) {
      std::string op = t.text;
      ++pos_;
      NodePtr operand = unary();
      auto node = make(NodeKind::Unary, first);
      node->text = op;
      node->children = {operand};
      return node;
    }
    if (t.kind == Tok::Ident && t.text == "sizeof") {
      ++pos_;
      if (is_punct("(")) {
        int depth = 0;
        do {
          if (peek().kind == Tok::End)
            throw SyntaxError{"unbalanced parentheses"};
          if (is_punct("("))
            ++depth;
          else if (is_punct(")"))
            --depth;
          ++pos_;
        } while (depth > 0);
      } else {
        unary();
      }
      return make(NodeKind::Sizeof, first);
    }
    if (at_cast()) {
      ++pos_;
      std::string type;
      while (!is_punct(")")) {
        if (!type.empty() && peek().kind == Tok::Ident)
          type += ' ';
        type += peek().text;
        ++pos_;
      }
      ++pos_;
      NodePtr operand = unary();
      auto node = make(NodeKind::Cast, first);
      node->text = type;
      node->children = {operand};
      return node;
    }
    return postfix();
  }

  NodePtr postfix() {
    size_t first = pos_;
    NodePtr node = primary();
    for (;;) {
      if (is_punct("->") || is_punct(".")) {
        bool arrow = is_punct("->");
        ++pos_;
        if (peek().kind != Tok::Ident)
          throw SyntaxError{"expected a member name"};
        std::string name = peek().text;
        ++pos_;
        bool rec =
            arrow && node->kind == NodeKind::Ident && node->text == "REC";
        auto member = make(rec ? NodeKind::Field : NodeKind::Member, first);
        member->text = name;
        if (!rec)
          member->children = {node};
        node = member;
      } else if (is_punct("[")) {
        ++pos_;
        NodePtr index = expression();
        expect("]");
        auto n = make(NodeKind::Index, first);
        n->children = {node, index};
        node = n;
      } else if (is_punct("(") && node->kind == NodeKind::Ident) {
        ++pos_;
        std::vector<NodePtr> args;
        while (!is_punct(")")) {
          args.push_back(is_punct("{") ? braces() : expression());
          if (!is_punct(")"))
            expect(",");
        }
        ++pos_;
        auto call = make(NodeKind::Call, first);
        call->text = node->text;
        call->children = std::move(args);
        node = call;
      } else {
        return node;
      }
    }
  }

  NodePtr braces() {
    size_t first = pos_;
    expect("{");
    std::vector<NodePtr> items;
    while (!is_punct("}")) {
      items.push_back(is_punct("{") ? braces() : expression());
      if (!is_punct("}"))
        expect(",");
    }
    ++pos_;
    auto node = make(NodeKind::Braces, first);
    node->children = std::move(items);
    return node;
  }

  NodePtr number(const Token &t, size_t first) {
    auto node = make(NodeKind::Number, first);
    std::string text = t.text;
    size_t suffix = text.find_last_not_of("uUlL");
    std::string digits = text.substr(0, suffix + 1);
    for (char c : text.substr(suffix + 1)) {
      if (c == 'u' || c == 'U')
        node->suffix_unsigned = true;
      else
        ++node->suffix_long;
    }
    int base = 10;
    size_t start = 0;
    if (digits.size() > 2 && digits[0] == '0' &&
        (digits[1] == 'x' || digits[1] == 'X')) {
      base = 16;
      start = 2;
    } else if (digits.size() > 1 && digits[0] == '0') {
      base = 8;
      start = 1;
    }
    node->hex_or_octal = base != 10;
    uint64_t value = 0;
    for (size_t i = start; i < digits.size(); ++i) {
      char c =
          static_cast<char>(tolower(static_cast<unsigned char>(digits[i])));
      int d = isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : (c >= 'a' && c <= 'f')               ? c - 'a' + 10
                                                     : 99;
      if (d >= base)
        throw SyntaxError{"invalid number '" + text + "'"};
      value = value * base + d;
    }
    node->number = value;
    return node;
  }

  NodePtr primary() {
    size_t first = pos_;
    const Token &t = peek();
    switch (t.kind) {
    case Tok::Number:
      ++pos_;
      return number(t, first);
    case Tok::Char: {
      ++pos_;
      auto node = make(NodeKind::Number, first);
      node->number = t.text.empty() ? 0 : static_cast<unsigned char>(t.text[0]);
      return node;
    }
    case Tok::String: {
      std::string value;
      while (peek().kind == Tok::String) {
        value += peek().text;
        ++pos_;
      }
      auto node = make(NodeKind::String, first);
      node->text = value;
      return node;
    }
    case Tok::Ident: {
      ++pos_;
      auto node = make(NodeKind::Ident, first);
      node->text = t.text;
      return node;
    }
    case Tok::Punct:
      if (t.text == "(") {
        ++pos_;
        NodePtr inner = expression();
        expect(")");
        return inner;
      }
      if (t.text == "{")
        return braces();
      break;
    default:
      break;
    }
    throw SyntaxError{t.kind == Tok::End ? "unexpected end"
                                         : "unexpected '" + t.text + "'"};
  }

  const std::vector<Token> &t_;
  std::string_view src_;
  size_t pos_, end_;
};

// Index of the next ',' at nesting depth 0 from `i`, or the End token.
size_t next_top_level_comma(const std::vector<Token> &tokens, size_t i) {
  int depth = 0;
  for (; tokens[i].kind != Tok::End; ++i) {
    const Token &t = tokens[i];
    if (t.kind != Tok::Punct)
      continue;
    if (t.text == "(" || t.text == "[" || t.text == "{")
      ++depth;
    else if (t.text == ")" || t.text == "]" || t.text == "}")
      --depth;
    else if (t.text == "," && depth == 0)
      return i;
  }
  return i;
}

// ----------------------------------------------------------------- types

CType promote(CType t) { return t.bits < 32 ? CType{32, true} : t; }

// C's usual arithmetic conversions for two promoted integer types.
CType common_type(CType a, CType b) {
  a = promote(a);
  b = promote(b);
  if (a.bits == b.bits)
    return {a.bits, a.is_signed && b.is_signed};
  return a.bits > b.bits ? a : b; // the wider type holds every value
}

CType literal_type(const Node &n) {
  uint64_t v = n.number;
  if (n.suffix_long == 0) {
    if (!n.suffix_unsigned && v <= INT32_MAX)
      return {32, true};
    if ((n.suffix_unsigned || n.hex_or_octal) && v <= UINT32_MAX)
      return {32, false};
  }
  if (!n.suffix_unsigned && v <= INT64_MAX)
    return {64, true};
  return {64, false};
}

// The type a cast names, or nullopt when it keeps the operand's (an enum, a
// typedef hvt does not know).
std::optional<CType> cast_type(const std::string &type) {
  if (type.find('*') != std::string::npos)
    return CType{64, false};
  std::vector<std::string> words;
  std::istringstream in(type);
  for (std::string w; in >> w;)
    if (w != "const" && w != "volatile" && w != "__force")
      words.push_back(w);
  auto has = [&](const char *w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  if (words.empty() || has("struct") || has("union") || has("enum"))
    return std::nullopt;
  bool is_unsigned = has("unsigned");
  if (has("bool") || has("_Bool"))
    return CType{1, false};
  if (has("char"))
    return CType{8, !is_unsigned};
  if (has("short"))
    return CType{16, !is_unsigned};
  if (has("long"))
    return CType{64, !is_unsigned};
  if (has("int") || has("signed") || has("unsigned"))
    return CType{32, !is_unsigned};
  static const std::map<std::string, CType> typedefs = {
      {"u8", {8, false}},        {"__u8", {8, false}},
      {"uint8_t", {8, false}},   {"s8", {8, true}},
      {"__s8", {8, true}},       {"int8_t", {8, true}},
      {"u16", {16, false}},      {"__u16", {16, false}},
      {"uint16_t", {16, false}}, {"s16", {16, true}},
      {"__s16", {16, true}},     {"int16_t", {16, true}},
      {"u32", {32, false}},      {"__u32", {32, false}},
      {"uint32_t", {32, false}}, {"s32", {32, true}},
      {"__s32", {32, true}},     {"int32_t", {32, true}},
      {"u64", {64, false}},      {"__u64", {64, false}},
      {"uint64_t", {64, false}}, {"s64", {64, true}},
      {"__s64", {64, true}},     {"int64_t", {64, true}},
      {"size_t", {64, false}},   {"uintptr_t", {64, false}},
      {"ssize_t", {64, true}},   {"loff_t", {64, true}},
      {"pid_t", {32, true}},     {"gfp_t", {32, false}}};
  if (words.size() == 1)
    if (auto it = typedefs.find(words[0]); it != typedefs.end())
      return it->second;
  return std::nullopt;
}

ExprPtr constant(uint64_t value, CType type) {
  auto e = std::make_shared<Expr>();
  e->op = Op::Const;
  e->type = type;
  e->constant = normalize(value, type);
  return e;
}

ExprPtr convert(ExprPtr e, CType to) {
  if (e->type == to)
    return e;
  if (e->op == Op::Const)
    return constant(e->constant, to);
  auto c = std::make_shared<Expr>();
  c->op = Op::Convert;
  c->type = to;
  c->operands = {std::move(e)};
  return c;
}

ExprPtr operation(Op op, CType type, std::vector<ExprPtr> operands) {
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->type = type;
  e->operands = std::move(operands);
  return e;
}

class Lowering {
public:
  Lowering(const TracepointFormat *format) : format_(format) {}

  ExprPtr lower(const Node &n) {
    switch (n.kind) {
    case NodeKind::Number:
      return constant(n.number, literal_type(n));
    case NodeKind::Field:
      return field(n);
    case NodeKind::Ident:
      if (n.text == "true" || n.text == "false")
        return constant(n.text == "true", {32, true});
      throw SyntaxError{"'" + n.text + "' is a name the kernel did not " +
                        "replace with its value"};
    case NodeKind::Unary:
      return unary(n);
    case NodeKind::Binary:
      return binary(n);
    case NodeKind::Ternary: {
      ExprPtr cond = lower(*n.children[0]);
      ExprPtr a = lower(*n.children[1]), b = lower(*n.children[2]);
      CType type = common_type(a->type, b->type);
      return operation(Op::Select, type,
                       {cond, convert(a, type), convert(b, type)});
    }
    case NodeKind::Cast: {
      ExprPtr operand = lower(*n.children[0]);
      std::optional<CType> to = cast_type(n.text);
      return to ? convert(operand, *to) : operand;
    }
    case NodeKind::String:
      throw SyntaxError{"a string is not a number"};
    case NodeKind::Call:
      throw SyntaxError{"it calls the kernel function " + n.text + "()"};
    case NodeKind::Sizeof:
      throw SyntaxError{"it uses sizeof"};
    default:
      throw SyntaxError{"'" + n.source + "' reads memory outside the record"};
    }
  }

private:
  ExprPtr field(const Node &n) {
    const TracepointField *f = format_ ? format_->find(n.text) : nullptr;
    if (!f)
      throw SyntaxError{"the record has no field '" + n.text + "'"};
    if (f->data_loc || f->char_array || !f->type.is_integer() ||
        f->c_type.find('[') != std::string::npos)
      throw SyntaxError{"field '" + n.text + "' is not an integer"};
    auto e = std::make_shared<Expr>();
    e->op = Op::Field;
    e->field = f->name;
    e->offset = f->offset;
    e->size = f->size;
    e->field_signed = f->is_signed;
    e->type = promote(CType{static_cast<uint8_t>(f->size * 8), f->is_signed});
    return e;
  }

  ExprPtr unary(const Node &n) {
    ExprPtr a = lower(*n.children[0]);
    CType type = promote(a->type);
    a = convert(a, type);
    if (n.text == "+")
      return a;
    if (n.text == "-")
      return fold(operation(Op::Neg, type, {a}));
    if (n.text == "~")
      return fold(operation(Op::BitNot, type, {a}));
    if (n.text == "!")
      return fold(operation(Op::LogicalNot, {32, true}, {a}));
    throw SyntaxError{"it dereferences a pointer"};
  }

  ExprPtr binary(const Node &n) {
    static const std::map<std::string, Op> ops = {
        {"+", Op::Add},    {"-", Op::Sub},         {"*", Op::Mul},
        {"/", Op::Div},    {"%", Op::Mod},         {"<<", Op::Shl},
        {">>", Op::Shr},   {"&", Op::BitAnd},      {"|", Op::BitOr},
        {"^", Op::BitXor}, {"==", Op::Eq},         {"!=", Op::Ne},
        {"<", Op::Lt},     {"<=", Op::Le},         {">", Op::Gt},
        {">=", Op::Ge},    {"&&", Op::LogicalAnd}, {"||", Op::LogicalOr}};
    Op op = ops.at(n.text);
    ExprPtr a = lower(*n.children[0]), b = lower(*n.children[1]);
    const CType int_type{32, true};
    switch (op) {
    case Op::LogicalAnd:
    case Op::LogicalOr:
      return fold(operation(op, int_type, {a, b}));
    case Op::Shl:
    case Op::Shr: {
      CType type = promote(a->type);
      return fold(operation(op, type,
                            {convert(a, type), convert(b, promote(b->type))}));
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      CType type = common_type(a->type, b->type);
      return fold(
          operation(op, int_type, {convert(a, type), convert(b, type)}));
    }
    default: {
      CType type = common_type(a->type, b->type);
      return fold(operation(op, type, {convert(a, type), convert(b, type)}));
    }
    }
  }

  // Constant operands fold to one constant (table entries are expressions
  // such as `0x040 + 13` or `1UL << 10`).
  static ExprPtr fold(ExprPtr e) {
    for (const auto &operand : e->operands)
      if (operand->op != Op::Const)
        return e;
    return constant(evaluate(*e, nullptr, 0), e->type);
  }

  const TracepointFormat *format_;
};

// ---------------------------------------------------------- substitution

NodePtr expand(const NodePtr &node, const PrintFunctions &functions,
               const std::map<std::string, NodePtr> &bindings, int depth) {
  if (!node)
    return node;
  if (node->kind == NodeKind::Ident) {
    auto it = bindings.find(node->text);
    return it == bindings.end() ? node : it->second;
  }
  std::vector<NodePtr> children;
  bool changed = false;
  for (const auto &child : node->children) {
    children.push_back(expand(child, functions, bindings, depth));
    changed |= children.back() != child;
  }
  if (node->kind == NodeKind::Call) {
    auto it = functions.find(node->text);
    if (it != functions.end() && depth < 8 &&
        it->second.params.size() == children.size()) {
      std::map<std::string, NodePtr> args;
      for (size_t i = 0; i < children.size(); ++i)
        args[it->second.params[i]] = children[i];
      return expand(it->second.body, functions, args, depth + 1);
    }
  }
  if (!changed)
    return node;
  auto copy = std::make_shared<Node>(*node);
  copy->children = std::move(children);
  return copy;
}

bool is_symbolic_call(const Node &n) {
  return n.kind == NodeKind::Call &&
         (n.text == "__print_symbolic" || n.text == "__print_symbolic_u64" ||
          n.text == "__print_flags" || n.text == "__print_flags_u64");
}

bool uses_field(const Node &n, const std::string &field) {
  if (n.kind == NodeKind::Field && n.text == field)
    return true;
  for (const auto &child : n.children)
    if (uses_field(*child, field))
      return true;
  return false;
}

// Does `n` name a value computed from `field` with a table?
bool names_field(const Node &n, const std::string &field) {
  if (is_symbolic_call(n) && !n.children.empty() &&
      uses_field(*n.children[0], field))
    return true;
  for (const auto &child : n.children)
    if (names_field(*child, field))
      return true;
  return false;
}

void collect_named_fields(const Node &n, std::set<std::string> &out) {
  if (is_symbolic_call(n) && !n.children.empty()) {
    std::vector<const Node *> stack = {n.children[0].get()};
    while (!stack.empty()) {
      const Node *x = stack.back();
      stack.pop_back();
      if (x->kind == NodeKind::Field)
        out.insert(x->text);
      for (const auto &c : x->children)
        stack.push_back(c.get());
    }
  }
  for (const auto &child : n.children)
    collect_named_fields(*child, out);
}

// `{ 0, ((void *)0) }`: the end marker some tables spell out (show_gfp_flags).
bool is_terminator(const Node &entry) {
  if (entry.kind != NodeKind::Braces || entry.children.size() != 2)
    return false;
  const Node &name = *entry.children[1];
  if (name.kind == NodeKind::Ident)
    return name.text == "NULL";
  if (name.kind != NodeKind::Cast && name.kind != NodeKind::Number)
    return false;
  std::string ignored;
  ExprPtr value = lower(name, nullptr, ignored);
  return value && value->op == Op::Const && value->constant == 0;
}

// Whether every field `e` reads is in `fixed`.
bool reads_only(const Expr &e, const std::map<std::string, uint64_t> &fixed) {
  if (e.op == Op::Field)
    return fixed.count(e.field) != 0;
  for (const auto &operand : e.operands)
    if (!reads_only(*operand, fixed))
      return false;
  return true;
}

// `e` evaluated on a record holding only the fixed fields' values.
uint64_t evaluate_fixed(const Expr &e, const TracepointFormat &format) {
  std::vector<uint8_t> record;
  for (const auto &[name, value] : format.fixed_fields) {
    const TracepointField *f = format.find(name);
    if (!f || f->size > 8)
      continue;
    if (record.size() < f->offset + f->size)
      record.resize(f->offset + f->size);
    for (uint32_t i = 0; i < f->size; ++i)
      record[f->offset + i] = static_cast<uint8_t>(value >> (8 * i));
  }
  return evaluate(e, record.data(), record.size());
}

// A conversion from `from` to `to` that keeps every value.
bool keeps_values(CType from, CType to) {
  return to.bits >= from.bits && (from.is_signed == to.is_signed ||
                                  (!from.is_signed && to.bits > from.bits));
}

// The Field node of `field` when `e` is that field's value (through
// conversions that keep every value).
ExprPtr as_field(const ExprPtr &e, const std::string &field) {
  if (e->op == Op::Field)
    return e->field == field ? e : nullptr;
  if (e->op == Op::Convert && e->operands.size() == 1 &&
      keeps_values(e->operands[0]->type, e->type))
    return as_field(e->operands[0], field);
  return nullptr;
}

// A constant, after its conversions.
std::optional<uint64_t> as_constant(const Expr &e) {
  if (e.op == Op::Const)
    return e.constant;
  if (e.op == Op::Convert && e.operands.size() == 1)
    if (auto inner = as_constant(*e.operands[0]))
      return normalize(*inner, e.type);
  return std::nullopt;
}

// When one table names `field`'s own value, or that value ANDed with a
// non-negative 31-bit constant (VMX's `exit_reason & 0xffff`): BPF can
// store the field as read and leave the mask to user space.
void find_stored_field(SymbolicSpec &spec) {
  const SymbolicNode &leaf = *spec.root;
  if (leaf.condition)
    return;
  if (ExprPtr f = as_field(leaf.value, spec.field)) {
    spec.stored_field = f;
    spec.stored_mask = ~uint64_t{0};
    return;
  }
  const Expr &e = *leaf.value;
  if (e.op != Op::BitAnd || e.operands.size() != 2)
    return;
  for (int side = 0; side < 2; ++side) {
    ExprPtr f = as_field(e.operands[side], spec.field);
    auto mask = as_constant(*e.operands[1 - side]);
    if (f && mask && *mask < (uint64_t{1} << 31)) {
      spec.stored_field = f;
      spec.stored_mask = *mask;
      return;
    }
  }
}

class SpecBuilder {
public:
  SpecBuilder(const TracepointFormat &format, const std::string &field,
              SymbolicSpec &spec)
      : format_(format), field_(field), spec_(spec), lowering_(&format) {}

  std::shared_ptr<SymbolicNode> build(const Node &n) {
    auto node = std::make_shared<SymbolicNode>();
    if (n.kind == NodeKind::Ternary) {
      ExprPtr condition = lowering_.lower(*n.children[0]);
      // A condition on fields this host fixes is decided here: BPF reads
      // neither those fields nor the other branch's table.
      if (!format_.fixed_fields.empty() &&
          reads_only(*condition, format_.fixed_fields))
        return build(evaluate_fixed(*condition, format_) ? *n.children[1]
                                                         : *n.children[2]);
      node->condition = condition;
      node->then_node = build(*n.children[1]);
      node->else_node = build(*n.children[2]);
      return node;
    }
    if (n.kind == NodeKind::String) {
      Node self;
      self.kind = NodeKind::Field;
      self.text = field_;
      node->value = lowering_.lower(self);
      node->table.kind = SymbolTable::Kind::Constant;
      node->table.constant = n.text;
      node->table.is_signed = node->value->type.is_signed;
      return node;
    }
    if (!is_symbolic_call(n))
      throw SyntaxError{"it renders the value with '" + n.source + "'"};
    bool flags = n.text.rfind("__print_flags", 0) == 0;
    size_t first_entry = flags ? 2 : 1;
    if (n.children.size() < first_entry)
      throw SyntaxError{n.text + "() has too few arguments"};
    node->value = lowering_.lower(*n.children[0]);
    node->table.kind =
        flags ? SymbolTable::Kind::Flags : SymbolTable::Kind::Symbolic;
    node->table.is_signed = node->value->type.is_signed;
    if (flags) {
      if (n.children[1]->kind != NodeKind::String)
        throw SyntaxError{"__print_flags() needs a separator string"};
      node->table.separator = n.children[1]->text;
    }
    size_t skipped = 0;
    for (size_t i = first_entry; i < n.children.size(); ++i) {
      const Node &entry = *n.children[i];
      if (is_terminator(entry) ||
          (entry.kind == NodeKind::Braces && entry.children.empty()))
        continue; // an end marker, or `{ }` (an empty table)
      if (entry.kind != NodeKind::Braces || entry.children.size() != 2 ||
          entry.children[1]->kind != NodeKind::String)
        throw SyntaxError{"table entry '" + entry.source +
                          "' is not { value, \"name\" }"};
      try {
        Lowering constants(nullptr);
        ExprPtr key = convert(constants.lower(*entry.children[0]), {64, false});
        node->table.entries.emplace_back(evaluate(*key, nullptr, 0),
                                         entry.children[1]->text);
      } catch (const SyntaxError &) {
        spec_.skipped.push_back(entry.children[0]->source);
        ++skipped;
      }
    }
    if (skipped && node->table.entries.empty())
      throw SyntaxError{"its table's values are names the kernel did not "
                        "replace with numbers (" +
                        n.children[first_entry]->children[0]->source +
                        ", ...)"};
    return node;
  }

private:
  const TracepointFormat &format_;
  const std::string &field_;
  SymbolicSpec &spec_;
  Lowering lowering_;
};

uint64_t read_field(const Expr &e, const uint8_t *record, size_t size) {
  if (!record || e.offset + e.size > size || e.size == 0 || e.size > 8)
    return 0;
  uint64_t bits = 0;
  memcpy(&bits, record + e.offset, e.size); // little-endian, as BPF reads
  if (e.size < 8) {
    uint64_t mask = (uint64_t{1} << (e.size * 8)) - 1;
    bits &= mask;
    if (e.field_signed && (bits >> (e.size * 8 - 1)) & 1)
      bits |= ~mask;
  }
  return bits;
}

std::string tracepoint_name(const TracepointFormat &format) {
  return format.category + ":" + format.name;
}

} // namespace

// ------------------------------------------------------------ public API

std::optional<PrintFmt> parse_print_fmt(std::string_view text,
                                        std::string &error) {
  std::vector<Token> tokens;
  try {
    tokens = tokenize(text);
  } catch (const SyntaxError &e) {
    error = e.message;
    return std::nullopt;
  }
  size_t i = 0;
  PrintFmt out;
  if (tokens[i].kind != Tok::String) {
    error = "a print format starts with a string";
    return std::nullopt;
  }
  while (tokens[i].kind == Tok::String)
    out.format += tokens[i++].text;
  while (tokens[i].kind != Tok::End) {
    if (tokens[i].kind != Tok::Punct || tokens[i].text != ",") {
      error = "expected ',' after the format string";
      return std::nullopt;
    }
    size_t begin = ++i;
    size_t end = next_top_level_comma(tokens, begin);
    std::string_view arg_text =
        begin < end ? text.substr(tokens[begin].begin,
                                  tokens[end - 1].end - tokens[begin].begin)
                    : std::string_view();
    NodePtr node;
    try {
      Parser parser(tokens, text, begin, end);
      node = parser.expression();
      if (!parser.done())
        node = nullptr;
    } catch (const SyntaxError &) {
      node = nullptr;
    }
    out.args.push_back(node);
    out.arg_texts.emplace_back(arg_text);
    i = end;
  }
  return out;
}

NodePtr parse_expression(std::string_view text, std::string &error) {
  try {
    std::vector<Token> tokens = tokenize(text);
    Parser parser(tokens, text, 0, tokens.size() - 1);
    NodePtr node = parser.expression();
    if (!parser.done())
      throw SyntaxError{"unexpected text after the expression"};
    return node;
  } catch (const SyntaxError &e) {
    error = e.message;
    return nullptr;
  }
}

std::optional<PrintFunctions> parse_print_functions(std::string_view text,
                                                    std::string &error) {
  // Join each definition's lines first.
  std::vector<std::pair<int, std::string>> definitions; // line, text
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    if (first == 0)
      definitions.emplace_back(number, line);
    else if (!definitions.empty())
      definitions.back().second += " " + line.substr(first);
    else {
      error = "line " + std::to_string(number) +
              ": indented text outside a definition";
      return std::nullopt;
    }
  }
  PrintFunctions functions;
  for (const auto &[number, def] : definitions) {
    std::string where = "line " + std::to_string(number) + ": ";
    size_t eq = def.find('=');
    if (eq == std::string::npos) {
      error = where + "expected NAME(PARAMS) = EXPRESSION";
      return std::nullopt;
    }
    std::string head_error;
    NodePtr head = parse_expression(def.substr(0, eq), head_error);
    if (!head || head->kind != NodeKind::Call) {
      error = where + "expected NAME(PARAMS) before '='";
      return std::nullopt;
    }
    PrintFunction fn;
    fn.name = head->text;
    for (const auto &param : head->children) {
      if (param->kind != NodeKind::Ident) {
        error = where + "parameters of " + fn.name + " must be names";
        return std::nullopt;
      }
      fn.params.push_back(param->text);
    }
    std::string body_error;
    fn.body = parse_expression(def.substr(eq + 1), body_error);
    if (!fn.body) {
      error = where + body_error;
      return std::nullopt;
    }
    functions[fn.name] = std::move(fn);
  }
  return functions;
}

const PrintFunctions &shipped_print_functions() {
  static const PrintFunctions functions = [] {
    const std::string &dir = shipped_formats_dir();
    if (dir.empty())
      return PrintFunctions{};
    std::ifstream file(dir + "/print_functions");
    if (!file)
      return PrintFunctions{};
    std::stringstream text;
    text << file.rdbuf();
    std::string error;
    auto parsed = parse_print_functions(text.str(), error);
    return parsed ? std::move(*parsed) : PrintFunctions{};
  }();
  return functions;
}

uint64_t normalize(uint64_t value, CType type) {
  if (type.bits >= 64)
    return value;
  if (type.bits == 1)
    return value != 0;
  uint64_t mask = (uint64_t{1} << type.bits) - 1;
  value &= mask;
  if (type.is_signed && (value >> (type.bits - 1)) & 1)
    value |= ~mask;
  return value;
}

uint64_t evaluate(const Expr &e, const uint8_t *record, size_t size) {
  auto operand = [&](size_t i) {
    return evaluate(*e.operands[i], record, size);
  };
  switch (e.op) {
  case Op::Const:
    return e.constant;
  case Op::Field:
    return normalize(read_field(e, record, size), e.type);
  case Op::Convert:
    return normalize(operand(0), e.type);
  case Op::Neg:
    return normalize(0 - operand(0), e.type);
  case Op::BitNot:
    return normalize(~operand(0), e.type);
  case Op::LogicalNot:
    return operand(0) == 0;
  case Op::LogicalAnd:
    return operand(0) != 0 && operand(1) != 0;
  case Op::LogicalOr:
    return operand(0) != 0 || operand(1) != 0;
  case Op::Select:
    return operand(0) != 0 ? operand(1) : operand(2);
  default:
    break;
  }
  uint64_t a = operand(0), b = operand(1);
  bool is_signed = e.operands[0]->type.is_signed;
  int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
  switch (e.op) {
  case Op::Add:
    return normalize(a + b, e.type);
  case Op::Sub:
    return normalize(a - b, e.type);
  case Op::Mul:
    return normalize(a * b, e.type);
  case Op::Div:
  case Op::Mod: {
    if (b == 0)
      return 0;
    bool div = e.op == Op::Div;
    if (!is_signed)
      return normalize(div ? a / b : a % b, e.type);
    if (sa == INT64_MIN && sb == -1)
      return normalize(div ? a : 0, e.type);
    return normalize(static_cast<uint64_t>(div ? sa / sb : sa % sb), e.type);
  }
  case Op::Shl:
    return normalize(a << (b & 63), e.type);
  case Op::Shr:
    return normalize(is_signed ? static_cast<uint64_t>(sa >> (b & 63))
                               : a >> (b & 63),
                     e.type);
  case Op::BitAnd:
    return a & b;
  case Op::BitOr:
    return a | b;
  case Op::BitXor:
    return a ^ b;
  case Op::Eq:
    return a == b;
  case Op::Ne:
    return a != b;
  case Op::Lt:
    return is_signed ? sa < sb : a < b;
  case Op::Le:
    return is_signed ? sa <= sb : a <= b;
  case Op::Gt:
    return is_signed ? sa > sb : a > b;
  case Op::Ge:
    return is_signed ? sa >= sb : a >= b;
  default:
    return 0;
  }
}

ExprPtr lower(const Node &node, const TracepointFormat *format,
              std::string &error) {
  try {
    return Lowering(format).lower(node);
  } catch (const SyntaxError &e) {
    error = e.message;
    return nullptr;
  }
}

std::optional<SymbolicSpec> find_symbolic(const TracepointFormat &format,
                                          const std::string &field,
                                          const PrintFunctions &functions,
                                          std::string &error) {
  std::string tracepoint = tracepoint_name(format);
  if (!format.find(field)) {
    error = "tracepoint " + tracepoint + " has no field '" + field + "'";
    return std::nullopt;
  }
  std::string parse_error;
  auto fmt = parse_print_fmt(format.print_fmt, parse_error);
  if (!fmt) {
    error = "cannot parse the print format of tracepoint " + tracepoint + ": " +
            parse_error;
    return std::nullopt;
  }
  std::string first_failure;
  for (size_t i = 0; i < fmt->args.size(); ++i) {
    if (!fmt->args[i])
      continue;
    NodePtr arg = expand(fmt->args[i], functions, {}, 0);
    if (!names_field(*arg, field))
      continue;
    SymbolicSpec spec;
    spec.tracepoint = tracepoint;
    spec.field = field;
    spec.source = fmt->arg_texts[i];
    try {
      spec.root = SpecBuilder(format, field, spec).build(*arg);
      find_stored_field(spec);
      return spec;
    } catch (const SyntaxError &e) {
      if (first_failure.empty())
        first_failure = e.message;
    }
  }
  if (!first_failure.empty()) {
    error = "hvt cannot compute the kernel's name for field '" + field +
            "' of tracepoint " + tracepoint + ": " + first_failure;
    return std::nullopt;
  }
  error = "the print format of tracepoint " + tracepoint +
          " has no names for the values of field '" + field + "'";
  return std::nullopt;
}

std::vector<std::string> symbolic_fields(const TracepointFormat &format,
                                         const PrintFunctions &functions) {
  std::string ignored;
  auto fmt = parse_print_fmt(format.print_fmt, ignored);
  std::set<std::string> named;
  if (fmt)
    for (const auto &arg : fmt->args)
      if (arg)
        collect_named_fields(*expand(arg, functions, {}, 0), named);
  std::vector<std::string> out;
  for (const auto &f : format.fields)
    if (named.count(f.name)) {
      std::string why;
      if (find_symbolic(format, f.name, functions, why))
        out.push_back(f.name);
    }
  return out;
}

uint64_t encode(const SymbolicNode &node, const uint8_t *record, size_t size) {
  if (node.condition)
    return encode(evaluate(*node.condition, record, size) ? *node.then_node
                                                          : *node.else_node,
                  record, size);
  uint64_t value = evaluate(*node.value, record, size);
  return (uint64_t{node.table_id} << kSymbolTableShift) |
         (value & kSymbolValueMask);
}

bool assign_tables(SymbolicNode &node, SymbolTables &tables) {
  if (node.condition)
    return assign_tables(*node.then_node, tables) &&
           assign_tables(*node.else_node, tables);
  node.table_id = tables.intern(node.table);
  return node.table_id != 0;
}

SymbolicFields::SymbolicFields() : tables_(std::make_shared<SymbolTables>()) {}

SymbolicFields::SymbolicFields(PrintFunctions functions)
    : own_functions_(std::move(functions)),
      tables_(std::make_shared<SymbolTables>()) {}

const SymbolicSpec *SymbolicFields::resolve(const TracepointFormat &format,
                                            const std::string &field,
                                            std::string &error) {
  auto key = std::make_pair(tracepoint_name(format), field);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    Entry entry;
    entry.spec = find_symbolic(format, field, functions(), entry.error);
    if (entry.spec && !assign_tables(*entry.spec->root, *tables_)) {
      entry.error = "the program names values with more than " +
                    std::to_string(kMaxSymbolTables) + " different tables";
      entry.spec.reset();
    }
    it = cache_.emplace(key, std::move(entry)).first;
  }
  if (!it->second.spec) {
    error = it->second.error;
    return nullptr;
  }
  return &*it->second.spec;
}

const SymbolicSpec *SymbolicFields::find(const std::string &tracepoint,
                                         const std::string &field) const {
  auto it = cache_.find({tracepoint, field});
  return it == cache_.end() || !it->second.spec ? nullptr : &*it->second.spec;
}

} // namespace hvt::printfmt
