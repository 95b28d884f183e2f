// The preprocessor (see preprocessor.h). Three parts:
//  - tokens and C integer constants, shared by `#if` and macro bodies;
//  - the macro table: every #define / #undef with a sequence number that
//    orders it among the script's directives, so headers can be read late
//    (lazily) and still see exactly the definitions made before their
//    #include, and be overridden by the script's later ones;
//  - FileRun: the directives of one file (the script, or a header), with
//    its conditional stack.
// Expansion follows the C standard's algorithm with hide sets (Prosser), so
// nested, recursive and function-like macros in headers behave as in clang.
#include "frontend/preprocessor.h"

#include "frontend/include_files.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <set>
#include <string_view>
#include <unordered_map>

#include <unistd.h>

namespace hvt {
namespace {

// Nested includes, as clang allows.
constexpr size_t kMaxIncludeDepth = 200;
// Replacements in one expansion, and nesting of macro arguments: bounds that
// no real header comes near, against `#define a a a` style blow-ups.
constexpr size_t kMaxReplacements = 100000;
constexpr size_t kMaxArgumentDepth = 200;
// Parentheses and prefix operators in one `#if` (as the parser's limit).
constexpr size_t kMaxIfNesting = 1000;
// Sequence numbers: the script's n-th #define/#undef/#include gets
// n * kScriptStep; definitions read from a header included there follow it
// one by one. Predefined macros come before everything.
constexpr uint64_t kScriptStep = uint64_t(1) << 32;
constexpr uint64_t kEndOfScript = UINT64_MAX;

const char *const kBtfPath = "/sys/kernel/btf/vmlinux";

// ---------------------------------------------------------------- tokens

enum class TokKind { Ident, Number, String, Char, Punct, Other };

struct Tok {
  Tok() = default;
  Tok(TokKind k, std::string t, size_t p)
      : kind(k), text(std::move(t)), pos(p) {}

  TokKind kind = TokKind::Other;
  std::string text;
  size_t pos = 0;     // index in the text it was read from
  bool paste = false; // a `##` of a macro body
  // Macros this token came from (not expanded again): names owned by the
  // macro table.
  std::vector<const std::string *> hide;

  bool is(const char *punct) const {
    return kind == TokKind::Punct && text == punct;
  }
  bool hidden(const std::string &name) const {
    return std::any_of(hide.begin(), hide.end(),
                       [&](const std::string *h) { return *h == name; });
  }
};

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return is_word_start(c) || is_digit(c); }
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' ||
         c == '\n';
}

std::vector<Tok> tokenize(std::string_view s) {
  static const char *const kPuncts[] = {
      "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=",
      "&&",  "||",  "##",  "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^="};
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_blank(c)) {
      ++i;
      continue;
    }
    size_t start = i;
    TokKind kind = TokKind::Punct;
    if (is_word_start(c)) {
      kind = TokKind::Ident;
      while (i < s.size() && is_word_char(s[i]))
        ++i;
    } else if (is_digit(c) ||
               (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      kind = TokKind::Number; // a pp-number
      ++i;
      while (i < s.size()) {
        if ((s[i] == '+' || s[i] == '-') && strchr("eEpP", s[i - 1]))
          ++i;
        else if (is_word_char(s[i]) || s[i] == '.')
          ++i;
        else
          break;
      }
    } else if (c == '"' || c == '\'') {
      kind = c == '"' ? TokKind::String : TokKind::Char;
      ++i;
      while (i < s.size() && s[i] != c)
        i += s[i] == '\\' && i + 1 < s.size() ? 2 : 1;
      i = std::min(i + 1, s.size());
    } else if (c == '$' || c == '@') { // hvt's $var and @map, kept whole
      kind = TokKind::Other;
      ++i;
      while (i < s.size() && (is_word_char(s[i]) || s[i] == '#'))
        ++i;
    } else {
      size_t length = 1;
      for (const char *p : kPuncts)
        if (s.compare(i, strlen(p), p) == 0) {
          length = strlen(p);
          break;
        }
      i += length;
    }
    out.push_back({kind, std::string(s.substr(start, i - start)), start});
  }
  return out;
}

// A C integer constant's value; `is_unsigned` as C would type it.
struct Value {
  uint64_t bits = 0;
  bool is_unsigned = false;
};

// The length of `t` without its integer suffix (u, l, ll in any order/case).
size_t without_suffix(std::string_view t) {
  size_t end = t.size();
  while (end > 1 && strchr("uUlL", t[end - 1]))
    --end;
  return end;
}

std::optional<Value> parse_integer(std::string_view t) {
  Value value;
  size_t end = without_suffix(t);
  for (size_t i = end; i < t.size(); ++i)
    value.is_unsigned |= t[i] == 'u' || t[i] == 'U';
  std::string_view digits = t.substr(0, end);
  unsigned base = 10;
  if (digits.size() > 2 && digits[0] == '0' && strchr("xX", digits[1])) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.size() > 2 && digits[0] == '0' && strchr("bB", digits[1])) {
    base = 2;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
  }
  if (digits.empty())
    return std::nullopt;
  for (char c : digits) {
    unsigned digit = is_digit(c)              ? c - '0'
                     : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                     : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                              : 99;
    if (digit >= base ||
        __builtin_mul_overflow(value.bits, base, &value.bits) ||
        __builtin_add_overflow(value.bits, digit, &value.bits))
      return std::nullopt;
  }
  if (value.bits > static_cast<uint64_t>(INT64_MAX))
    value.is_unsigned = true;
  return value;
}

// 'a', '\n', '\x41', '\101': the value of the first character.
std::optional<Value> parse_char(std::string_view t) {
  if (t.size() < 3 || t.front() != '\'' || t.back() != '\'')
    return std::nullopt;
  std::string_view body = t.substr(1, t.size() - 2);
  if (body[0] != '\\')
    return Value{static_cast<uint64_t>(static_cast<signed char>(body[0]))};
  if (body.size() < 2)
    return std::nullopt;
  static const std::string_view kSimple =
      "n\nt\tr\rv\vf\fa\ab\be\x1b\\\\''\"\"??0\0";
  char c = body[1];
  if (c == 'x' || (c >= '0' && c <= '7')) {
    unsigned base = c == 'x' ? 16 : 8;
    uint64_t v = 0;
    for (size_t i = c == 'x' ? 2 : 1; i < body.size(); ++i) {
      char d = body[i];
      unsigned digit = is_digit(d)              ? d - '0'
                       : (d >= 'a' && d <= 'f') ? d - 'a' + 10
                       : (d >= 'A' && d <= 'F') ? d - 'A' + 10
                                                : 99;
      if (digit >= base)
        break;
      v = v * base + digit;
    }
    return Value{static_cast<uint64_t>(static_cast<signed char>(v))};
  }
  for (size_t i = 0; i + 1 < kSimple.size(); i += 2)
    if (kSimple[i] == c)
      return Value{static_cast<uint64_t>(kSimple[i + 1])};
  return std::nullopt;
}

// ------------------------------------------------------ #if evaluation

// Evaluates a fully expanded `#if` expression: integers, character
// constants, identifiers (0, as in C), unary + - ! ~, the binary operators
// of C, ?: and the comma. Errors in branches that are not evaluated (`0 &&
// 1/0`) are not errors, as in C.
class IfEvaluator {
public:
  explicit IfEvaluator(const std::vector<Tok> &tokens) : t_(tokens) {}

  std::optional<Value> run(std::string &error) {
    Value v = comma();
    if (error_.empty() && i_ < t_.size())
      fail("unexpected '" + t_[i_].text + "'");
    error = error_;
    return error_.empty() ? std::optional<Value>(v) : std::nullopt;
  }

private:
  const std::vector<Tok> &t_;
  size_t i_ = 0;
  size_t depth_ = 0;
  bool evaluating_ = true;
  std::string error_;

  void fail(std::string message) {
    if (error_.empty())
      error_ = std::move(message);
    i_ = t_.size();
  }
  bool accept(const char *punct) {
    if (i_ < t_.size() && t_[i_].is(punct)) {
      ++i_;
      return true;
    }
    return false;
  }

  Value comma() {
    Value v = conditional();
    while (error_.empty() && accept(","))
      v = conditional();
    return v;
  }

  Value conditional() {
    Value cond = binary(0);
    if (!accept("?"))
      return cond;
    bool outer = evaluating_;
    evaluating_ = outer && cond.bits;
    Value a = comma();
    if (!accept(":"))
      fail("expected ':' in conditional expression");
    evaluating_ = outer && !cond.bits;
    Value b = conditional();
    evaluating_ = outer;
    Value v = cond.bits ? a : b;
    v.is_unsigned = a.is_unsigned || b.is_unsigned;
    return v;
  }

  static int precedence(const Tok &tok) {
    static const std::pair<const char *, int> kTable[] = {
        {"||", 1}, {"&&", 2}, {"|", 3},  {"^", 4},  {"&", 5},  {"==", 6},
        {"!=", 6}, {"<", 7},  {"<=", 7}, {">", 7},  {">=", 7}, {"<<", 8},
        {">>", 8}, {"+", 9},  {"-", 9},  {"*", 10}, {"/", 10}, {"%", 10}};
    if (tok.kind != TokKind::Punct)
      return -1;
    for (const auto &[op, prec] : kTable)
      if (tok.text == op)
        return prec;
    return -1;
  }

  Value binary(int min_prec) {
    Value lhs = unary();
    while (error_.empty() && i_ < t_.size()) {
      int prec = precedence(t_[i_]);
      if (prec < 0 || prec < min_prec)
        break;
      std::string op = t_[i_++].text;
      bool outer = evaluating_;
      if (op == "&&")
        evaluating_ = outer && lhs.bits;
      else if (op == "||")
        evaluating_ = outer && !lhs.bits;
      Value rhs = binary(prec + 1);
      evaluating_ = outer;
      lhs = apply(op, lhs, rhs);
    }
    return lhs;
  }

  Value apply(const std::string &op, Value a, Value b) {
    bool u = a.is_unsigned || b.is_unsigned;
    int64_t sa = static_cast<int64_t>(a.bits),
            sb = static_cast<int64_t>(b.bits);
    auto truth = [](bool x) { return Value{x ? 1u : 0u, false}; };
    auto of = [&](uint64_t bits) { return Value{bits, u}; };
    if (op == "||")
      return truth(a.bits || b.bits);
    if (op == "&&")
      return truth(a.bits && b.bits);
    if (op == "|")
      return of(a.bits | b.bits);
    if (op == "^")
      return of(a.bits ^ b.bits);
    if (op == "&")
      return of(a.bits & b.bits);
    if (op == "==")
      return truth(a.bits == b.bits);
    if (op == "!=")
      return truth(a.bits != b.bits);
    if (op == "<")
      return truth(u ? a.bits < b.bits : sa < sb);
    if (op == "<=")
      return truth(u ? a.bits <= b.bits : sa <= sb);
    if (op == ">")
      return truth(u ? a.bits > b.bits : sa > sb);
    if (op == ">=")
      return truth(u ? a.bits >= b.bits : sa >= sb);
    if (op == "<<" || op == ">>") {
      // The result has the left operand's type; out-of-range shifts give 0
      // (or -1 for negative values shifted right) instead of undefined
      // behaviour.
      uint64_t n = b.bits;
      Value v{0, a.is_unsigned};
      if (op == "<<")
        v.bits = n >= 64 ? 0 : a.bits << n;
      else if (a.is_unsigned)
        v.bits = n >= 64 ? 0 : a.bits >> n;
      else
        v.bits = static_cast<uint64_t>(n >= 64 ? (sa < 0 ? -1 : 0) : sa >> n);
      return v;
    }
    if (op == "+")
      return of(a.bits + b.bits);
    if (op == "-")
      return of(a.bits - b.bits);
    if (op == "*")
      return of(a.bits * b.bits);
    // '/' and '%'
    if (b.bits == 0) {
      if (evaluating_)
        fail(op == "/" ? "division by zero" : "remainder by zero");
      return of(0);
    }
    if (u)
      return of(op == "/" ? a.bits / b.bits : a.bits % b.bits);
    if (sa == INT64_MIN && sb == -1)
      return of(op == "/" ? a.bits : 0);
    return of(static_cast<uint64_t>(op == "/" ? sa / sb : sa % sb));
  }

  Value unary() {
    if (i_ >= t_.size()) {
      fail("expected a value");
      return {};
    }
    struct Nesting {
      size_t &depth;
      explicit Nesting(size_t &d) : depth(++d) {}
      ~Nesting() { --depth; }
    } nesting(depth_);
    if (depth_ > kMaxIfNesting) {
      fail("expression nested too deeply");
      return {};
    }
    const Tok &tok = t_[i_++];
    if (tok.is("+"))
      return unary();
    if (tok.is("-")) {
      Value v = unary();
      return {0 - v.bits, v.is_unsigned};
    }
    if (tok.is("~")) {
      Value v = unary();
      return {~v.bits, v.is_unsigned};
    }
    if (tok.is("!"))
      return {unary().bits ? 0u : 1u, false};
    if (tok.is("(")) {
      Value v = comma();
      if (!accept(")"))
        fail("expected ')'");
      return v;
    }
    if (tok.kind == TokKind::Ident)
      return {}; // an identifier that is not a macro is 0
    if (tok.kind == TokKind::Number || tok.kind == TokKind::Char) {
      auto v = tok.kind == TokKind::Number ? parse_integer(tok.text)
                                           : parse_char(tok.text);
      if (!v)
        fail("invalid integer constant '" + tok.text + "'");
      return v.value_or(Value{});
    }
    fail("unexpected '" + tok.text + "'");
    return {};
  }
};

// -------------------------------------------------------- predefined

// What clang predefines that glibc's and the kernel's user-space headers
// test, for the architecture hvt was built for, plus bpftrace's own
// definitions (BPFTRACE_HAVE_BTF is handled apart: it is looked up only if
// used).
const char *const kPredefined = R"(
__linux__ 1
__linux 1
linux 1
__gnu_linux__ 1
__unix__ 1
__unix 1
unix 1
__ELF__ 1
__STDC__ 1
__STDC_VERSION__ 201710L
__STDC_HOSTED__ 1
__GNUC__ 4
__GNUC_MINOR__ 2
__GNUC_PATCHLEVEL__ 1
__GNUC_STDC_INLINE__ 1
__clang__ 1
__CHAR_BIT__ 8
__SIZEOF_SHORT__ 2
__SIZEOF_INT__ 4
__SIZEOF_LONG_LONG__ 8
__SIZEOF_FLOAT__ 4
__SIZEOF_DOUBLE__ 8
__SCHAR_MAX__ 127
__SHRT_MAX__ 32767
__INT_MAX__ 2147483647
__LONG_LONG_MAX__ 9223372036854775807LL
__ORDER_LITTLE_ENDIAN__ 1234
__ORDER_BIG_ENDIAN__ 4321
__ORDER_PDP_ENDIAN__ 3412
__BPF_TRACING__ 1
__HAVE_BUILTIN_BSWAP16__ 1
__HAVE_BUILTIN_BSWAP32__ 1
__HAVE_BUILTIN_BSWAP64__ 1
)"
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                "__BYTE_ORDER__ 1234\n"
                                "__LITTLE_ENDIAN__ 1\n"
#else
                                "__BYTE_ORDER__ 4321\n"
                                "__BIG_ENDIAN__ 1\n"
#endif
#if defined(__LP64__)
                                "__LP64__ 1\n_LP64 1\n"
                                "__SIZEOF_LONG__ 8\n__SIZEOF_POINTER__ 8\n"
                                "__LONG_MAX__ 9223372036854775807L\n"
#else
                                "__ILP32__ 1\n"
                                "__SIZEOF_LONG__ 4\n__SIZEOF_POINTER__ 4\n"
                                "__LONG_MAX__ 2147483647L\n"
#endif
#if defined(__x86_64__)
                                "__x86_64__ 1\n__x86_64 1\n"
                                "__amd64__ 1\n__amd64 1\n"
#elif defined(__aarch64__)
                                "__aarch64__ 1\n__AARCH64EL__ 1\n"
#elif defined(__i386__)
                                "__i386__ 1\n__i386 1\ni386 1\n"
#elif defined(__arm__)
                                "__arm__ 1\n__ARM_EABI__ 1\n"
#elif defined(__powerpc64__)
                                "__powerpc64__ 1\n__PPC64__ 1\n"
                                "__powerpc__ 1\n"
#elif defined(__s390x__)
                                "__s390x__ 1\n__s390__ 1\n"
#elif defined(__riscv)
                                "__riscv 1\n__riscv_xlen 64\n"
#endif
    ;

const std::unordered_map<std::string, MacroDefinition> &predefined() {
  static const std::unordered_map<std::string, MacroDefinition> table = [] {
    std::unordered_map<std::string, MacroDefinition> result;
    std::string_view text = kPredefined;
    while (!text.empty()) {
      size_t end = std::min(text.find('\n'), text.size());
      std::string_view line = text.substr(0, end);
      text.remove_prefix(std::min(end + 1, text.size()));
      size_t space = line.find(' ');
      if (space == std::string_view::npos)
        continue;
      MacroDefinition def;
      def.name = std::string(line.substr(0, space));
      def.body = std::string(line.substr(space + 1));
      def.file = "<built-in>";
      result.emplace(def.name, std::move(def));
    }
    return result;
  }();
  return table;
}

// ------------------------------------------------------ program text

// `(unsigned int)`, `(__u32)`, `(in_addr_t)` ... at out[i]: the hvt cast
// with the same size and sign ("(uint32)"), with `after` the index past the
// ')'; "" when out[i] does not start a cast to a C integer type. Typedefs
// are those of glibc and the kernel's UAPI headers that macros use in casts.
std::string c_integer_cast(const std::vector<Tok> &out, size_t i,
                           size_t &after) {
  static const std::unordered_map<std::string, const char *> kTypedefs = {
      {"__u8", "uint8"},         {"__s8", "int8"},
      {"__u16", "uint16"},       {"__s16", "int16"},
      {"__u32", "uint32"},       {"__s32", "int32"},
      {"__u64", "uint64"},       {"__s64", "int64"},
      {"__be16", "uint16"},      {"__be32", "uint32"},
      {"__le16", "uint16"},      {"__le32", "uint32"},
      {"uint8_t", "uint8"},      {"int8_t", "int8"},
      {"uint16_t", "uint16"},    {"int16_t", "int16"},
      {"uint32_t", "uint32"},    {"int32_t", "int32"},
      {"uint64_t", "uint64"},    {"int64_t", "int64"},
      {"size_t", "uint64"},      {"ssize_t", "int64"},
      {"in_addr_t", "uint32"},   {"in_port_t", "uint16"},
      {"sa_family_t", "uint16"}, {"socklen_t", "uint32"},
      {"pid_t", "int32"},        {"uid_t", "uint32"},
      {"gid_t", "uint32"},       {"mode_t", "uint32"},
      {"off_t", "int64"}};
  if (!out[i].is("("))
    return "";
  size_t j = i + 1;
  int size = 0, longs = 0;
  bool is_unsigned = false, any = false;
  std::string named;
  for (; j < out.size() && out[j].kind == TokKind::Ident; ++j) {
    const std::string &w = out[j].text;
    auto typedef_name = kTypedefs.find(w);
    if (typedef_name != kTypedefs.end() && j == i + 1)
      named = typedef_name->second;
    else if (w == "unsigned")
      is_unsigned = true;
    else if (w == "char")
      size = 1;
    else if (w == "short")
      size = 2;
    else if (w == "long")
      ++longs;
    else if (w != "signed" && w != "int")
      return "";
    any = true;
  }
  if (!named.empty() && j != i + 2) // a typedef name stands alone
    return "";
  if (!any || j >= out.size() || !out[j].is(")") || j + 1 >= out.size())
    return "";
  const Tok &next = out[j + 1]; // a cast has an operand
  if (!(next.kind == TokKind::Number || next.kind == TokKind::Ident ||
        next.kind == TokKind::Char || next.is("(") || next.is("-") ||
        next.is("~") || next.is("!")))
    return "";
  after = j + 1;
  if (!named.empty())
    return "(" + named + ")";
  if (size == 0)
    size = longs ? 8 : 4;
  return std::string("(") + (is_unsigned ? "uint" : "int") +
         std::to_string(size * 8) + ")";
}

} // namespace

std::string MacroDefinition::where() const {
  if (file == "<built-in>")
    return "predefined";
  if (file.empty())
    return "defined at line " + std::to_string(line);
  return "defined at " + file + ":" + std::to_string(line);
}

// ---------------------------------------------------------------- state

struct Preprocessed::State {
  std::string text;
  bool changed = false;
  std::string script_dir;
  std::vector<std::string> dirs;
  std::optional<bool> have_btf;

  struct Entry {
    uint64_t seq;
    std::shared_ptr<const MacroDefinition> def; // null: #undef
  };
  std::unordered_map<std::string, std::vector<Entry>> table;
  std::unordered_map<const MacroDefinition *, std::vector<Tok>> bodies;
  std::optional<MacroDefinition> btf_macro;

  struct PendingInclude {
    uint64_t seq;
    std::string path;
    int dir_index;
    bool loaded = false;
  };
  std::vector<PendingInclude> pending;
  std::unordered_map<std::string, std::string> files; // path -> contents
  std::vector<std::string> read_order;
  std::unordered_map<std::string, std::string> guards; // path -> macro
  std::set<std::string> once;

  void define(const std::string &name, uint64_t seq,
              std::shared_ptr<const MacroDefinition> def) {
    auto &entries = table[name];
    auto it = std::upper_bound(
        entries.begin(), entries.end(), seq,
        [](uint64_t s, const Entry &entry) { return s < entry.seq; });
    entries.insert(it, Entry{seq, std::move(def)});
  }

  // The entry for `name` in force at `at`, ignoring headers not yet read.
  const Entry *latest(const std::string &name, uint64_t at) const {
    auto it = table.find(name);
    if (it == table.end())
      return nullptr;
    for (auto e = it->second.rbegin(); e != it->second.rend(); ++e)
      if (e->seq <= at)
        return &*e;
    return nullptr;
  }

  const MacroDefinition *lookup(const std::string &name, uint64_t at) {
    // Headers included before `at` and not read yet can only change the
    // answer if the script did not (re)define `name` after them.
    uint64_t unread = 0;
    for (const auto &p : pending)
      if (!p.loaded && p.seq < at)
        unread = p.seq;
    if (unread) {
      const Entry *e = latest(name, at);
      if (!(e && e->seq > unread && e->seq % kScriptStep == 0))
        read_pending(at);
    }
    if (const Entry *e = latest(name, at))
      return e->def.get();
    if (name == "BPFTRACE_HAVE_BTF") {
      if (!have_btf)
        have_btf = access(kBtfPath, F_OK) == 0;
      if (!*have_btf)
        return nullptr;
      if (!btf_macro)
        btf_macro =
            MacroDefinition{name, false, {}, false, "1", "<built-in>", 0, {}};
      return &*btf_macro;
    }
    auto it = predefined().find(name);
    return it == predefined().end() ? nullptr : &it->second;
  }

  void read_pending(uint64_t before) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].loaded || pending[i].seq >= before)
        continue;
      pending[i].loaded = true;
      uint64_t seq = pending[i].seq;
      std::string path = pending[i].path; // `pending` may grow meanwhile
      read_header(path, pending[i].dir_index, seq, 1);
    }
  }

  void read_header(const std::string &path, int dir_index, uint64_t &seq,
                   size_t depth);

  const std::vector<Tok> &body_tokens(const MacroDefinition &def) {
    auto [it, added] = bodies.try_emplace(&def);
    if (added) {
      it->second = tokenize(def.body);
      for (auto &tok : it->second)
        tok.paste = tok.is("##");
    }
    return it->second;
  }

  bool expand(std::vector<Tok> input, uint64_t at, bool in_if,
              std::vector<Tok> &out, std::string &error, size_t &budget,
              size_t depth = 0);

  bool substitute(const MacroDefinition &def,
                  const std::vector<std::vector<Tok>> &args, uint64_t at,
                  bool in_if, std::vector<Tok> &out, std::string &error,
                  size_t &budget, size_t depth);
};

namespace {

using State = Preprocessed::State;

// The text of tokens as a C string literal (the `#` operator).
Tok stringify(const std::vector<Tok> &tokens) {
  std::string text = "\"";
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i)
      text += ' ';
    for (char c : tokens[i].text) {
      if ((c == '"' || c == '\\') && tokens[i].kind != TokKind::Ident)
        text += '\\';
      text += c;
    }
  }
  return {TokKind::String, text + "\"", 0};
}

// `defined X` / `defined(X)` / `__has_include(<x.h>)` ... in #if: takes
// the operand from `in` and gives the result as a number token.
bool special_operator(const Tok &tok, std::deque<Tok> &in, State &state,
                      uint64_t at, std::string &error, Tok &result) {
  bool is_defined = tok.text == "defined";
  if (!is_defined && tok.text.rfind("__has_", 0) != 0)
    return false;
  std::vector<Tok> operand;
  if (!in.empty() && in.front().is("(")) {
    in.pop_front();
    int depth = 1;
    while (!in.empty()) {
      Tok next = std::move(in.front());
      in.pop_front();
      depth += next.is("(") - next.is(")");
      if (depth == 0)
        break;
      operand.push_back(std::move(next));
    }
    if (depth != 0) {
      error = "missing ')' after '" + tok.text + "'";
      return true;
    }
  } else if (is_defined && !in.empty()) {
    operand.push_back(std::move(in.front()));
    in.pop_front();
  } else if (!is_defined) {
    return false; // a plain identifier that happens to start with __has_
  }
  bool value = false;
  if (is_defined) {
    if (operand.size() != 1 || operand[0].kind != TokKind::Ident) {
      error = "macro name missing after 'defined'";
      return true;
    }
    value = state.lookup(operand[0].text, at) != nullptr;
  } else if (tok.text == "__has_include" || tok.text == "__has_include_next") {
    std::string name;
    bool angled = !operand.empty() && operand[0].is("<");
    if (angled) {
      for (size_t i = 1; i < operand.size() && !operand[i].is(">"); ++i)
        name += operand[i].text;
    } else if (!operand.empty() && operand[0].kind == TokKind::String) {
      name = operand[0].text.substr(1, operand[0].text.size() - 2);
    }
    value =
        !find_include(name, angled, state.script_dir, state.dirs).path.empty();
  }
  // Any other __has_feature/__has_builtin/__has_attribute...: 0.
  result = {TokKind::Number, value ? "1" : "0", tok.pos};
  return true;
}

} // namespace

bool State::expand(std::vector<Tok> input, uint64_t at, bool in_if,
                   std::vector<Tok> &out, std::string &error, size_t &budget,
                   size_t depth) {
  if (depth > kMaxArgumentDepth) {
    error = "macro arguments nested too deeply";
    return false;
  }
  std::deque<Tok> in(std::make_move_iterator(input.begin()),
                     std::make_move_iterator(input.end()));
  while (!in.empty()) {
    Tok tok = std::move(in.front());
    in.pop_front();
    if (tok.kind != TokKind::Ident) {
      out.push_back(std::move(tok));
      continue;
    }
    Tok result;
    if (in_if && special_operator(tok, in, *this, at, error, result)) {
      if (!error.empty())
        return false;
      out.push_back(std::move(result));
      continue;
    }
    const MacroDefinition *def =
        tok.hidden(tok.text) ? nullptr : lookup(tok.text, at);
    if (!def || (def->function_like && (in.empty() || !in.front().is("(")))) {
      out.push_back(std::move(tok));
      continue;
    }
    if (budget == 0 || --budget == 0) {
      error = "macro expansion too large";
      return false;
    }
    std::vector<Tok> replacement;
    if (!def->function_like) {
      if (!substitute(*def, {}, at, in_if, replacement, error, budget, depth))
        return false;
    } else {
      in.pop_front(); // '('
      std::vector<std::vector<Tok>> args(1);
      int nesting = 1;
      size_t fixed = def->params.size() - (def->variadic ? 1 : 0);
      while (!in.empty() && nesting > 0) {
        Tok next = std::move(in.front());
        in.pop_front();
        nesting += next.is("(") - next.is(")");
        if (nesting == 0)
          break;
        if (nesting == 1 && next.is(",") &&
            !(def->variadic && args.size() > fixed))
          args.emplace_back();
        else
          args.back().push_back(std::move(next));
      }
      if (nesting != 0) {
        error = "unterminated argument list invoking macro '" + def->name + "'";
        return false;
      }
      if (def->params.empty() && args.size() == 1 && args[0].empty())
        args.clear();
      if (def->variadic && args.size() == fixed)
        args.emplace_back(); // no variadic arguments
      if (args.size() != def->params.size()) {
        error = "macro '" + def->name + "' passed " +
                std::to_string(args.size()) + " arguments, but takes " +
                std::to_string(def->params.size());
        return false;
      }
      if (!substitute(*def, args, at, in_if, replacement, error, budget, depth))
        return false;
    }
    // Rescan the replacement with what follows it.
    for (auto it = replacement.rbegin(); it != replacement.rend(); ++it) {
      it->hide.insert(it->hide.end(), tok.hide.begin(), tok.hide.end());
      it->hide.push_back(&def->name);
      in.push_front(std::move(*it));
    }
  }
  return true;
}

bool State::substitute(const MacroDefinition &def,
                       const std::vector<std::vector<Tok>> &args, uint64_t at,
                       bool in_if, std::vector<Tok> &out, std::string &error,
                       size_t &budget, size_t depth) {
  const std::vector<Tok> &body = body_tokens(def);
  auto param = [&](const Tok &tok) -> int {
    if (tok.kind != TokKind::Ident)
      return -1;
    for (size_t i = 0; i < def.params.size(); ++i)
      if (def.params[i] == tok.text)
        return static_cast<int>(i);
    return -1;
  };
  std::vector<Tok> result;
  for (size_t k = 0; k < body.size(); ++k) {
    const Tok &b = body[k];
    if (def.function_like && b.is("#") && k + 1 < body.size() &&
        param(body[k + 1]) >= 0) {
      result.push_back(stringify(args[param(body[++k])]));
      continue;
    }
    int index = param(b);
    if (index < 0) {
      result.push_back(b);
      continue;
    }
    bool raw = (k > 0 && body[k - 1].paste) ||
               (k + 1 < body.size() && body[k + 1].paste);
    if (raw) {
      if (args[index].empty())
        result.push_back({TokKind::Other, "", b.pos}); // a placemarker
      result.insert(result.end(), args[index].begin(), args[index].end());
    } else if (!expand(args[index], at, in_if, result, error, budget,
                       depth + 1)) {
      return false;
    }
  }
  // `##`: paste the tokens on either side into one.
  for (size_t k = 0; k < result.size(); ++k) {
    if (result[k].paste && !out.empty() && k + 1 < result.size()) {
      std::string joined = out.back().text + result[k + 1].text;
      std::vector<Tok> pasted = tokenize(joined);
      if (pasted.size() == 1) {
        pasted[0].pos = out.back().pos;
        out.back() = std::move(pasted[0]);
      } else if (!joined.empty()) {
        out.push_back(std::move(result[k + 1]));
      }
      ++k;
    } else if (!result[k].paste) {
      out.push_back(std::move(result[k]));
    }
  }
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const Tok &t) { return t.text.empty(); }),
            out.end());
  return true;
}

namespace {

// ------------------------------------------------------------- one file

// The directives of one file. The script reports errors and blanks its
// directives and inactive regions; headers only collect macros, silently.
class FileRun {
public:
  // The script.
  FileRun(State &state, std::string_view text, Diagnostics &diags,
          const std::string &name)
      : state_(state), text_(text), diags_(&diags), name_(name) {}
  // A header, its definitions numbered from `seq`.
  FileRun(State &state, std::string_view text, const std::string &path,
          int dir_index, uint64_t &seq, size_t depth)
      : state_(state), text_(text), name_(path), dir_index_(dir_index),
        header_seq_(&seq), depth_(depth) {}

  void run() {
    scan_lines(
        text_, [&](const DirectiveLine &d) { return directive(d); },
        [&](const CodeLine &c) { return code(c); });
    if (!script() || stopped_)
      return;
    for (const auto &open : conditions_)
      diags_->error(open.range, "unterminated '#" + open.directive + "'")
          .hint("add '#endif' to end it");
  }

  // The include guard of a header: every directive of the file inside
  // `#ifndef GUARD ... #endif`.
  std::string guard() const { return guard_closed_ ? guard_ : ""; }

private:
  struct Condition {
    bool active = false;        // this branch is being read
    bool parent_active = false; // the region around the #if is
    bool taken = false;         // a branch was (or is) active
    bool seen_else = false;
    std::string directive; // "if", "ifdef" ... for messages
    SourceRange range;     // the script only
  };

  State &state_;
  std::string_view text_;
  Diagnostics *diags_ = nullptr; // null for headers
  std::string name_;
  int dir_index_ = -1;
  uint64_t *header_seq_ = nullptr;
  uint64_t script_seq_ = 0;
  size_t depth_ = 0;
  std::vector<Condition> conditions_;
  std::vector<size_t> line_starts_;
  bool seen_brace_ = false;
  bool stopped_ = false;
  std::string guard_;
  bool guard_closed_ = false;
  size_t directives_ = 0;

  bool script() const { return diags_ != nullptr; }
  bool active() const {
    return conditions_.empty() || conditions_.back().active;
  }

  uint64_t next_seq() {
    if (!script())
      return ++*header_seq_;
    return script_seq_ += kScriptStep;
  }
  // Where lookups happen now: after everything defined so far, including
  // what the headers included so far will define.
  uint64_t now() const {
    return script() ? script_seq_ + kScriptStep - 1 : *header_seq_;
  }

  // ----- positions (the script only)

  SourceLocation location(size_t offset) {
    if (line_starts_.empty()) {
      line_starts_.push_back(0);
      for (size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n')
          line_starts_.push_back(i + 1);
    }
    auto it =
        std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = it - line_starts_.begin();
    return {static_cast<uint32_t>(line),
            static_cast<uint32_t>(offset - line_starts_[line - 1] + 1)};
  }
  // The range of d.text[from..to] (inclusive); past the end: the last char.
  SourceRange range(const DirectiveLine &d, size_t from, size_t to) {
    if (d.offsets.empty())
      return {location(d.begin), location(d.begin)};
    from = std::min(from, d.offsets.size() - 1);
    to = std::min(std::max(to, from), d.offsets.size() - 1);
    return {location(d.offsets[from]), location(d.offsets[to])};
  }
  SourceRange token_range(const DirectiveLine &d, const Tok &tok) {
    return range(d, tok.pos,
                 tok.pos + std::max<size_t>(tok.text.size(), 1) - 1);
  }
  // '#' through the directive's name.
  SourceRange name_range(const DirectiveLine &d, const Tok &name) {
    SourceRange r = token_range(d, name);
    r.begin = location(d.begin);
    return r;
  }
  // From `first` to the end of the directive.
  SourceRange rest_range(const DirectiveLine &d, const Tok &first) {
    size_t last = d.text.find_last_not_of(" \t");
    return range(d, first.pos, last == std::string::npos ? first.pos : last);
  }

  void blank(size_t begin, size_t end) {
    if (!state_.changed) {
      state_.text.assign(text_);
      state_.changed = true;
    }
    for (size_t i = begin; i < end && i < state_.text.size(); ++i)
      if (state_.text[i] != '\n')
        state_.text[i] = ' ';
  }

  Diagnostic *error(SourceRange where, std::string message) {
    if (!script())
      return nullptr;
    return &diags_->error(where, std::move(message));
  }

  // ----- lines

  bool code(const CodeLine &c) {
    if (!script())
      return true;
    if (!active()) {
      blank(c.begin, c.end);
      return true;
    }
    std::string_view word = c.first_word;
    if (!seen_brace_ && (word == "struct" || word == "union" ||
                         word == "enum" || word == "typedef")) {
      SourceRange r{location(c.first_word_offset),
                    location(c.first_word_offset + word.size() - 1)};
      diags_
          ->error(r, "C definitions ('" + std::string(word) +
                         "') are not supported")
          .hint("hvt takes kernel types from BTF (" + std::string(kBtfPath) +
                "); remove the definition, or put it under "
                "'#ifndef BPFTRACE_HAVE_BTF' as bpftrace's tools do");
      stopped_ = true;
      return false;
    }
    seen_brace_ |= c.opens_brace;
    return true;
  }

  bool directive(const DirectiveLine &d) {
    if (script())
      blank(d.begin, d.end);
    ++directives_;
    if (guard_closed_) { // a directive after the guard's #endif
      guard_closed_ = false;
      guard_.clear();
    }
    std::vector<Tok> toks = tokenize(d.text);
    if (toks.empty() || toks[0].kind == TokKind::Number)
      return true; // the null directive; a line marker
    const Tok &name = toks[0];
    const std::string &n = name.text;
    if (n == "if" || n == "ifdef" || n == "ifndef")
      return open_condition(d, toks);
    if (n == "elif" || n == "else" || n == "endif")
      return next_branch(d, toks);
    if (!active())
      return true;
    if (n == "define" || n == "undef")
      return define(d, toks);
    if (n == "include" || n == "include_next")
      return include(d, toks);
    if (n == "error" || n == "warning") {
      if (!script())
        return true;
      std::string message = "#" + n;
      if (toks.size() > 1)
        message +=
            " " + d.text.substr(toks[1].pos, d.text.find_last_not_of(" \t") +
                                                 1 - toks[1].pos);
      if (n == "error")
        diags_->error(name_range(d, name), message);
      else
        diags_->warning(name_range(d, name), message);
      return true;
    }
    if (n == "pragma") {
      if (!script() && toks.size() > 1 && toks[1].text == "once")
        state_.once.insert(name_);
      return true;
    }
    if (n == "line" || n == "ident" || n == "sccs" || n == "assert" ||
        n == "unassert")
      return true;
    if (auto *e = error(name_range(d, name),
                        "invalid preprocessing directive '#" + n + "'"))
      e->hint("hvt understands #include, #define, #undef, #if, #ifdef, "
              "#ifndef, #elif, #else, #endif, #error, #warning and #pragma");
    return true;
  }

  // The value of the condition of #if/#elif (`toks` from its operand on),
  // or of #ifdef/#ifndef.
  bool evaluate(const DirectiveLine &d, const std::vector<Tok> &toks) {
    const std::string &n = toks[0].text;
    if (toks.size() < 2) {
      error(name_range(d, toks[0]), n == "if" || n == "elif"
                                        ? "'#" + n + "' without a condition"
                                        : "macro name missing");
      return false;
    }
    if (n == "ifdef" || n == "ifndef") {
      if (toks[1].kind != TokKind::Ident) {
        error(token_range(d, toks[1]), "macro name must be an identifier");
        return false;
      }
      bool defined = state_.lookup(toks[1].text, now()) != nullptr;
      return n == "ifdef" ? defined : !defined;
    }
    std::vector<Tok> expanded;
    std::string message;
    size_t budget = kMaxReplacements;
    std::optional<Value> value;
    if (state_.expand({toks.begin() + 1, toks.end()}, now(), true, expanded,
                      message, budget))
      value = IfEvaluator(expanded).run(message);
    if (!value) {
      error(rest_range(d, toks[1]),
            "invalid '#" + n + "' condition: " + message);
      return false;
    }
    return value->bits != 0;
  }

  bool open_condition(const DirectiveLine &d, const std::vector<Tok> &toks) {
    if (!script() && conditions_.empty() && directives_ == 1 &&
        toks[0].text == "ifndef" && toks.size() == 2 &&
        toks[1].kind == TokKind::Ident)
      guard_ = toks[1].text;
    Condition c;
    c.parent_active = active();
    c.directive = toks[0].text;
    if (script())
      c.range = name_range(d, toks[0]);
    if (c.parent_active)
      c.active = c.taken = evaluate(d, toks);
    else
      c.taken = true; // no branch of it can become active
    conditions_.push_back(std::move(c));
    return true;
  }

  bool next_branch(const DirectiveLine &d, const std::vector<Tok> &toks) {
    const std::string &n = toks[0].text;
    if (conditions_.empty()) {
      error(name_range(d, toks[0]), "'#" + n + "' without '#if'");
      return true;
    }
    Condition &c = conditions_.back();
    if (n == "endif") {
      conditions_.pop_back();
      guard_closed_ = conditions_.empty() && !guard_.empty();
      return true;
    }
    if (c.seen_else) {
      error(name_range(d, toks[0]), "'#" + n + "' after '#else'");
      return true;
    }
    if (n == "else") {
      c.seen_else = true;
      c.active = c.parent_active && !c.taken;
      c.taken = true;
      return true;
    }
    c.active = c.parent_active && !c.taken && evaluate(d, toks);
    c.taken |= c.active;
    return true;
  }

  bool define(const DirectiveLine &d, const std::vector<Tok> &toks) {
    const std::string &n = toks[0].text;
    if (toks.size() < 2 || toks[1].kind != TokKind::Ident) {
      error(toks.size() < 2 ? name_range(d, toks[0]) : token_range(d, toks[1]),
            toks.size() < 2 ? "macro name missing"
                            : "macro name must be an identifier");
      return true;
    }
    const Tok &name = toks[1];
    if (name.text == "defined") {
      error(token_range(d, name), "'defined' cannot be used as a macro name");
      return true;
    }
    if (n == "undef") {
      state_.define(name.text, next_seq(), nullptr);
      return true;
    }
    auto def = std::make_shared<MacroDefinition>();
    def->name = name.text;
    def->line = d.line;
    if (script())
      def->range = token_range(d, name);
    else
      def->file = name_;
    size_t body = name.pos + name.text.size();
    if (body < d.text.size() && d.text[body] == '(') {
      def->function_like = true;
      size_t k = 3; // toks[2] is '('
      bool ok = k < toks.size() && toks[k].is(")");
      if (ok)
        body = toks[k].pos + 1;
      while (!ok && k < toks.size()) {
        const Tok &t = toks[k++];
        if (t.is("...")) {
          def->variadic = true;
          def->params.push_back("__VA_ARGS__");
        } else if (t.kind == TokKind::Ident) {
          def->params.push_back(t.text);
          if (k < toks.size() && toks[k].is("...")) {
            def->variadic = true;
            ++k;
          }
        } else {
          break;
        }
        if (k < toks.size() && toks[k].is(")")) {
          ok = true;
          body = toks[k].pos + 1;
        } else if (def->variadic || k == toks.size() || !toks[k++].is(",")) {
          break;
        }
      }
      if (!ok) {
        error(token_range(d, toks[2]),
              "invalid parameter list in macro '" + name.text + "'");
        return true;
      }
    }
    size_t first = d.text.find_first_not_of(" \t", body);
    size_t last = d.text.find_last_not_of(" \t");
    if (first != std::string::npos && last != std::string::npos &&
        last >= first)
      def->body = d.text.substr(first, last - first + 1);
    std::string macro = def->name; // before `def` is moved
    state_.define(macro, next_seq(), std::move(def));
    return true;
  }

  bool include(const DirectiveLine &d, const std::vector<Tok> &toks) {
    const Tok &directive = toks[0];
    size_t rest = directive.pos + directive.text.size();
    std::string file;
    bool angled = false;
    if (!parse_include_operand(std::string_view(d.text).substr(rest), file,
                               angled)) {
      // A computed include: `#include MACRO`.
      std::vector<Tok> expanded;
      std::string message;
      size_t budget = kMaxReplacements;
      if (toks.size() > 1 &&
          state_.expand({toks.begin() + 1, toks.end()}, now(), false, expanded,
                        message, budget) &&
          !expanded.empty()) {
        if (expanded[0].kind == TokKind::String) {
          file = expanded[0].text.substr(1, expanded[0].text.size() - 2);
        } else if (expanded[0].is("<")) {
          angled = true;
          for (size_t i = 1; i < expanded.size() && !expanded[i].is(">"); ++i)
            file += expanded[i].text;
        }
      }
      if (file.empty()) {
        error(toks.size() > 1 ? rest_range(d, toks[1])
                              : name_range(d, directive),
              "expected \"FILENAME\" or <FILENAME>");
        return true;
      }
    }
    if (!script()) {
      if (depth_ >= kMaxIncludeDepth)
        return true;
      size_t first = directive.text == "include_next"
                         ? static_cast<size_t>(dir_index_ + 1)
                         : 0;
      FoundInclude found =
          find_include(file, angled, directory_of(name_), state_.dirs, first);
      if (!found.path.empty())
        state_.read_header(found.path, found.dir_index, *header_seq_,
                           depth_ + 1);
      return true; // a header the system lacks: its macros are not needed
    }
    FoundInclude found =
        find_include(file, angled, state_.script_dir, state_.dirs);
    if (found.path.empty()) {
      size_t open = d.text.find(angled ? '<' : '"', rest);
      size_t close = d.text.find(angled ? '>' : '"', open + 1);
      SourceRange where = open == std::string::npos ? rest_range(d, toks.back())
                                                    : range(d, open, close);
      std::string searched;
      if (!angled)
        searched = state_.script_dir;
      for (const auto &dir : state_.dirs)
        searched += (searched.empty() ? "" : ", ") + dir;
      auto &e = diags_->error(where, "'" + file + "' file not found");
      if (angled && file.find('/') != std::string::npos &&
          file.rfind("sys/", 0) != 0)
        e.hint("hvt reads only macros from headers and takes kernel types "
               "from BTF, so kernel-internal headers are not needed: remove "
               "the #include, or put it under '#ifndef BPFTRACE_HAVE_BTF'");
      e.hint("searched " + (searched.empty() ? "nothing" : searched));
      return true;
    }
    state_.pending.push_back({next_seq(), found.path, found.dir_index});
    return true;
  }
};

} // namespace

void State::read_header(const std::string &path, int dir_index, uint64_t &seq,
                        size_t depth) {
  if (depth > kMaxIncludeDepth || once.count(path))
    return;
  if (auto guard = guards.find(path);
      guard != guards.end() && lookup(guard->second, seq))
    return;
  auto [it, added] = files.try_emplace(path);
  if (added) {
    if (!read_text_file(path, it->second, kMaxHeaderBytes))
      it->second.clear();
    read_order.push_back(path);
  }
  FileRun run(*this, it->second, path, dir_index, seq, depth);
  run.run();
  if (!run.guard().empty())
    guards[path] = run.guard();
}

// ------------------------------------------------------------ Preprocessed

Preprocessed::Preprocessed(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
Preprocessed::~Preprocessed() = default;

bool Preprocessed::changed() const { return state_->changed; }
const std::string &Preprocessed::text() const { return state_->text; }

const MacroDefinition *Preprocessed::find(const std::string &name) {
  return state_->lookup(name, kEndOfScript);
}

bool Preprocessed::expand(const std::string &name, std::string &text,
                          std::string &error) {
  std::vector<Tok> out;
  size_t budget = kMaxReplacements;
  if (!state_->expand({Tok{TokKind::Ident, name, 0}}, kEndOfScript, false, out,
                      error, budget))
    return false;
  text.clear();
  for (size_t i = 0; i < out.size(); ++i) {
    const Tok &tok = out[i];
    if (!text.empty())
      text += ' ';
    size_t after = 0;
    if (std::string cast = c_integer_cast(out, i, after); !cast.empty()) {
      text += cast;
      i = after - 1;
    } else if (tok.kind == TokKind::Number && parse_integer(tok.text))
      text += tok.text.substr(0, without_suffix(tok.text));
    else if (auto c = tok.kind == TokKind::Char ? parse_char(tok.text)
                                                : std::nullopt)
      text += std::to_string(static_cast<int64_t>(c->bits));
    else
      text += tok.text;
  }
  return true;
}

std::vector<std::string> Preprocessed::headers_read() const {
  return state_->read_order;
}

std::unique_ptr<Preprocessed> preprocess(const SourceFile &file,
                                         Diagnostics &diags,
                                         const PreprocessorOptions &options) {
  auto state = std::make_unique<State>();
  state->have_btf = options.have_btf;
  state->dirs = options.include_dirs.value_or(system_include_dirs());
  state->script_dir = file.name() == "stdin" ? "." : directory_of(file.name());
  FileRun(*state, file.text(), diags, file.name()).run();
  return std::make_unique<Preprocessed>(std::move(state));
}

} // namespace hvt
