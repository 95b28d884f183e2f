// Parser and AST builder: every construct of the language, checked through
// the shape of the AST it produces (and the source ranges on its nodes).
#include "frontend/parser.h"

#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace hvt {
namespace {

struct Parsed {
  std::unique_ptr<ast::Program> program;
  std::string diagnostics;
};

Parsed parse(const std::string &text) {
  SourceFile file("stdin", text);
  Diagnostics diags;
  Parsed out;
  out.program = parse_program(file, diags);
  out.diagnostics = diags.render(file);
  return out;
}

// Parses `text`, which must be valid.
std::unique_ptr<ast::Program> parse_ok(const std::string &text) {
  Parsed parsed = parse(text);
  EXPECT_EQ(parsed.diagnostics, "") << "while parsing: " << text;
  EXPECT_NE(parsed.program, nullptr) << "while parsing: " << text;
  return std::move(parsed.program);
}

std::string range(const SourceRange &r) {
  return std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column) +
         "-" + std::to_string(r.end.line) + ":" + std::to_string(r.end.column);
}

// A compact prefix rendering of an expression: (+ 1 (* 2 3)).
std::string sx(const ast::Expr &e);

std::string sx_list(const std::string &head,
                    const std::vector<ast::ExprPtr> &items) {
  std::string out = "(" + head;
  for (const auto &item : items)
    out += " " + sx(*item);
  return out + ")";
}

std::string sx(const ast::Expr &e) {
  using namespace ast;
  switch (e.kind) {
  case ExprKind::Integer:
    return std::to_string(e.as<IntegerLit>()->value);
  case ExprKind::String:
    return "\"" + e.as<StringLit>()->value + "\"";
  case ExprKind::Builtin:
    return e.as<Builtin>()->name;
  case ExprKind::Positional: {
    const auto &p = *e.as<Positional>();
    return p.is_count ? "$#" : "$" + std::to_string(p.index);
  }
  case ExprKind::Variable:
    return e.as<Variable>()->name;
  case ExprKind::Map: {
    const auto &m = *e.as<Map>();
    return m.keys.empty() ? m.name : sx_list(m.name, m.keys);
  }
  case ExprKind::Call: {
    const auto &c = *e.as<Call>();
    return sx_list("call " + c.name, c.args);
  }
  case ExprKind::Binary: {
    const auto &b = *e.as<Binary>();
    return std::string("(") + binary_op_spelling(b.op) + " " + sx(*b.lhs) +
           " " + sx(*b.rhs) + ")";
  }
  case ExprKind::Unary: {
    const auto &u = *e.as<Unary>();
    bool post =
        u.op == UnaryOp::PostIncrement || u.op == UnaryOp::PostDecrement;
    return std::string("(") + (post ? "post" : "") + unary_op_spelling(u.op) +
           " " + sx(*u.operand) + ")";
  }
  case ExprKind::Ternary: {
    const auto &t = *e.as<Ternary>();
    return "(? " + sx(*t.cond) + " " + sx(*t.then_expr) + " " +
           sx(*t.else_expr) + ")";
  }
  case ExprKind::Field: {
    const auto &f = *e.as<Field>();
    return std::string("(") + (f.arrow ? "->" : ".") + " " + sx(*f.object) +
           " " + f.field + ")";
  }
  case ExprKind::TupleIndex: {
    const auto &t = *e.as<TupleIndex>();
    return "(." + std::to_string(t.index) + " " + sx(*t.object) + ")";
  }
  case ExprKind::Index: {
    const auto &i = *e.as<Index>();
    return "([] " + sx(*i.object) + " " + sx(*i.index) + ")";
  }
  case ExprKind::Cast: {
    const auto &c = *e.as<Cast>();
    return "(" + c.type_name + " " + sx(*c.operand) + ")";
  }
  case ExprKind::Tuple:
    return sx_list("tuple", e.as<TupleExpr>()->elements);
  }
  return "?";
}

// The statements of `BEGIN { body }`.
struct Body {
  std::unique_ptr<ast::Program> program;
  const ast::StmtList &stmts() const { return program->probes.at(0).body; }
  const ast::Stmt &at(size_t i) const { return *stmts().at(i); }
};

Body body(const std::string &text) {
  return {parse_ok("BEGIN { " + text + " }")};
}

// The expression `text`, parsed as `$r = text;`.
std::string expr(const std::string &text) {
  auto program = parse_ok("BEGIN { $r = " + text + "; }");
  if (!program)
    return "<error>";
  return sx(*program->probes.at(0).body.at(0)->as<ast::AssignVar>()->value);
}

// ------------------------------------------------------------ expressions

TEST(ParserExpr, BinaryPrecedenceFollowsC) {
  EXPECT_EQ(expr("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(expr("1 * 2 + 3"), "(+ (* 1 2) 3)");
  EXPECT_EQ(expr("a + b << c"), "(<< (+ a b) c)");
  EXPECT_EQ(expr("a << b < c"), "(< (<< a b) c)");
  EXPECT_EQ(expr("a < b == c"), "(== (< a b) c)");
  EXPECT_EQ(expr("a == b & c"), "(& (== a b) c)");
  EXPECT_EQ(expr("a & b ^ c"), "(^ (& a b) c)");
  EXPECT_EQ(expr("a ^ b | c"), "(| (^ a b) c)");
  EXPECT_EQ(expr("a | b && c"), "(&& (| a b) c)");
  EXPECT_EQ(expr("a && b || c"), "(|| (&& a b) c)");
  EXPECT_EQ(expr("a || b ? c : d"), "(? (|| a b) c d)");
  EXPECT_EQ(expr("a | b ^ c & d == e < f << g + h * i"),
            "(| a (^ b (& c (== d (< e (<< f (+ g (* h i))))))))");
  EXPECT_EQ(expr("a % b / c * d"), "(* (/ (% a b) c) d)");
  EXPECT_EQ(expr("a != b >= c <= d > e"), "(!= a (> (<= (>= b c) d) e))");
  EXPECT_EQ(expr("a >> b"), "(>> a b)");
}

TEST(ParserExpr, BinaryOperatorsAreLeftAssociative) {
  EXPECT_EQ(expr("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(expr("8 / 4 / 2"), "(/ (/ 8 4) 2)");
  EXPECT_EQ(expr("a && b && c"), "(&& (&& a b) c)");
}

TEST(ParserExpr, TernaryIsRightAssociative) {
  EXPECT_EQ(expr("a ? b : c ? d : e"), "(? a b (? c d e))");
  EXPECT_EQ(expr("a ? b ? c : d : e"), "(? a (? b c d) e)");
}

TEST(ParserExpr, ParenthesesOverridePrecedence) {
  EXPECT_EQ(expr("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(expr("((((x))))"), "x");
}

TEST(ParserExpr, UnaryOperators) {
  EXPECT_EQ(expr("-x"), "(- x)");
  EXPECT_EQ(expr("!x"), "(! x)");
  EXPECT_EQ(expr("~x"), "(~ x)");
  EXPECT_EQ(expr("*x"), "(* x)");
  EXPECT_EQ(expr("- -x"), "(- (- x))");
  EXPECT_EQ(expr("!a == ~b && -c || *d"),
            "(|| (&& (== (! a) (~ b)) (- c)) (* d))");
  EXPECT_EQ(expr("a - -b"), "(- a (- b))");
  EXPECT_EQ(expr("a * *b"), "(* a (* b))");
}

TEST(ParserExpr, PostfixBindsTighterThanPrefix) {
  EXPECT_EQ(expr("-x.y"), "(- (. x y))");
  EXPECT_EQ(expr("*p->f"), "(* (-> p f))");
  EXPECT_EQ(expr("-a[1]"), "(- ([] a 1))");
  EXPECT_EQ(expr("-$x++"), "(- (post++ $x))");
}

TEST(ParserExpr, IncrementsAndDecrements) {
  EXPECT_EQ(expr("$x++"), "(post++ $x)");
  EXPECT_EQ(expr("$x--"), "(post-- $x)");
  EXPECT_EQ(expr("++$x"), "(++ $x)");
  EXPECT_EQ(expr("--@m[1]"), "(-- (@m 1))");
  EXPECT_EQ(expr("$a+++$b"), "(+ (post++ $a) $b)");
}

TEST(ParserExpr, Casts) {
  EXPECT_EQ(expr("(uint8)x"), "(uint8 x)");
  EXPECT_EQ(expr("(int32)-1 + 2"), "(+ (int32 (- 1)) 2)");
  EXPECT_EQ(expr("(uint64)x.y"), "(uint64 (. x y))");
  for (const char *type : {"int8", "int16", "int32", "int64", "uint8", "uint16",
                           "uint32", "uint64"})
    EXPECT_EQ(expr(std::string("(") + type + ")$v"),
              std::string("(") + type + " $v)");
}

TEST(ParserExpr, FieldsAndIndexes) {
  EXPECT_EQ(expr("args->filename"), "(-> args filename)");
  EXPECT_EQ(expr("curtask.mm->pgd"), "(-> (. curtask mm) pgd)");
  EXPECT_EQ(expr("arr[2][3]"), "([] ([] arr 2) 3)");
  EXPECT_EQ(expr("$s.if + $s->struct"), "(+ (. $s if) (-> $s struct))");
}

TEST(ParserExpr, TuplesAndTupleIndexes) {
  EXPECT_EQ(expr("(1, \"x\", comm)"), "(tuple 1 \"x\" comm)");
  EXPECT_EQ(expr("$t.0"), "(.0 $t)");
  EXPECT_EQ(expr("$t.1.2"), "(.2 (.1 $t))");
  EXPECT_EQ(expr("$t.0 + 1"), "(+ (.0 $t) 1)");
  EXPECT_EQ(expr("((1, 2), 3).0.1"), "(.1 (.0 (tuple (tuple 1 2) 3)))");
}

TEST(ParserExpr, CallsBuiltinsAndPositionals) {
  EXPECT_EQ(expr("count()"), "(call count)");
  EXPECT_EQ(expr("str(arg0, 16)"), "(call str arg0 16)");
  EXPECT_EQ(expr("kstack(perf)"), "(call kstack perf)");
  EXPECT_EQ(expr("kstack"), "kstack");
  EXPECT_EQ(expr("pid + tid + retval + nsecs + curtask + cgroup + arg9"),
            "(+ (+ (+ (+ (+ (+ pid tid) retval) nsecs) curtask) cgroup) arg9)");
  EXPECT_EQ(expr("$1 + $12 + $#"), "(+ (+ $1 $12) $#)");
  EXPECT_EQ(expr("$x"), "$x");
}

TEST(ParserExpr, MapReads) {
  EXPECT_EQ(expr("@x"), "@x");
  EXPECT_EQ(expr("@x[1]"), "(@x 1)");
  EXPECT_EQ(expr("@x[1, comm]"), "(@x 1 comm)");
  EXPECT_EQ(expr("@[pid]"), "(@ pid)");
  EXPECT_EQ(expr("@"), "@");
  EXPECT_EQ(expr("@x[@y[1]]"), "(@x (@y 1))");
}

TEST(ParserExpr, IntegerLiterals) {
  EXPECT_EQ(expr("0"), "0");
  EXPECT_EQ(expr("42"), "42");
  EXPECT_EQ(expr("0x2a"), "42");
  EXPECT_EQ(expr("0XFF"), "255");
  EXPECT_EQ(expr("0777"), "511");
  EXPECT_EQ(expr("1_000_000"), "1000000");
  EXPECT_EQ(expr("0xffff_ffff"), "4294967295");
  EXPECT_EQ(expr("1e6"), "1000000");
  EXPECT_EQ(expr("5e3"), "5000");
  EXPECT_EQ(expr("2.5e3"), "2500");
  EXPECT_EQ(expr("1E+2"), "100");
  EXPECT_EQ(expr("1000e-3"), "1");
  EXPECT_EQ(expr("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(expr("0xffffffffffffffff"), "18446744073709551615");
  EXPECT_EQ(expr("1.8446744073709551615e19"), "18446744073709551615");
}

TEST(ParserExpr, StringEscapesAreDecoded) {
  auto value = [](const std::string &literal) {
    auto program = parse_ok("BEGIN { $s = " + literal + "; }");
    return program->probes[0]
        .body[0]
        ->as<ast::AssignVar>()
        ->value->as<ast::StringLit>()
        ->value;
  };
  EXPECT_EQ(value(R"("plain")"), "plain");
  EXPECT_EQ(value(R"("")"), "");
  EXPECT_EQ(value(R"("a\nb\tc\rd")"), "a\nb\tc\rd");
  EXPECT_EQ(value(R"("\\ \" \'")"), "\\ \" '");
  EXPECT_EQ(value(R"("\x41\x4a\x7")"), "AJ\x07");
  EXPECT_EQ(value(R"("\101\60\7z")"), "A0\az");
  EXPECT_EQ(value(R"("a\0b")"), std::string("a\0b", 3));
  EXPECT_EQ(value(R"("\08")"), std::string("\0"
                                           "8",
                                           2));
  EXPECT_EQ(value("\"h\xc3\xa9llo\""), "h\xc3\xa9llo"); // UTF-8 passes through
  EXPECT_EQ(value(R"("%s/%d")"), "%s/%d");
}

// ------------------------------------------------------------- statements

TEST(ParserStmt, MapAssignments) {
  Body b = body("@x = 1; @y[k] = 2; @z[k1, k2] = 3; @ = 4; @[k] = 5");
  ASSERT_EQ(b.stmts().size(), 5u);
  const char *names[] = {"@x", "@y", "@z", "@", "@"};
  size_t key_counts[] = {0, 1, 2, 0, 1};
  for (size_t i = 0; i < 5; ++i) {
    auto *assign = b.at(i).as<ast::AssignMap>();
    ASSERT_NE(assign, nullptr) << i;
    EXPECT_EQ(assign->map->name, names[i]);
    EXPECT_EQ(assign->map->keys.size(), key_counts[i]);
    EXPECT_FALSE(assign->op.compound);
    EXPECT_EQ(sx(*assign->value), std::to_string(i + 1));
  }
}

TEST(ParserStmt, VariableAssignment) {
  Body b = body("$x = 1 + 2");
  auto *assign = b.at(0).as<ast::AssignVar>();
  ASSERT_NE(assign, nullptr);
  EXPECT_EQ(assign->var->name, "$x");
  EXPECT_FALSE(assign->op.compound);
  EXPECT_EQ(sx(*assign->value), "(+ 1 2)");
}

TEST(ParserStmt, CompoundAssignments) {
  struct Case {
    const char *op;
    ast::BinaryOp binary;
  } cases[] = {
      {"+=", ast::BinaryOp::Add},   {"-=", ast::BinaryOp::Sub},
      {"*=", ast::BinaryOp::Mul},   {"/=", ast::BinaryOp::Div},
      {"%=", ast::BinaryOp::Mod},   {"&=", ast::BinaryOp::BitAnd},
      {"|=", ast::BinaryOp::BitOr}, {"^=", ast::BinaryOp::BitXor},
      {"<<=", ast::BinaryOp::Shl},  {">>=", ast::BinaryOp::Shr},
  };
  for (const auto &c : cases) {
    Body b = body(std::string("$v ") + c.op + " 2; @m[1] " + c.op + " 3;");
    auto *var = b.at(0).as<ast::AssignVar>();
    auto *map = b.at(1).as<ast::AssignMap>();
    ASSERT_NE(var, nullptr) << c.op;
    ASSERT_NE(map, nullptr) << c.op;
    EXPECT_TRUE(var->op.compound) << c.op;
    EXPECT_EQ(var->op.op, c.binary) << c.op;
    EXPECT_TRUE(map->op.compound) << c.op;
    EXPECT_EQ(map->op.op, c.binary) << c.op;
    EXPECT_EQ(sx(*map->value), "3");
  }
}

TEST(ParserStmt, IncrementStatementsAreUnaryExpressions) {
  Body b = body("@c++; ++@c; $i--; --$i; @m[1]++");
  const char *expected[] = {"(post++ @c)", "(++ @c)", "(post-- $i)", "(-- $i)",
                            "(post++ (@m 1))"};
  ASSERT_EQ(b.stmts().size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    auto *stmt = b.at(i).as<ast::ExprStmt>();
    ASSERT_NE(stmt, nullptr);
    EXPECT_EQ(sx(*stmt->expr), expected[i]);
  }
}

TEST(ParserStmt, IfElseChain) {
  Body b = body("if (a) { x(); } else if (b) { y(); z() } else { w() }");
  auto *outer = b.at(0).as<ast::If>();
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(sx(*outer->cond), "a");
  ASSERT_EQ(outer->then_body.size(), 1u);
  ASSERT_EQ(outer->else_body.size(), 1u);
  auto *inner = outer->else_body[0]->as<ast::If>();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(sx(*inner->cond), "b");
  EXPECT_EQ(inner->then_body.size(), 2u);
  ASSERT_EQ(inner->else_body.size(), 1u);
  EXPECT_EQ(sx(*inner->else_body[0]->as<ast::ExprStmt>()->expr), "(call w)");
}

TEST(ParserStmt, IfWithoutElse) {
  Body b = body("if ($x > 1) { @a = 1 }");
  auto *node = b.at(0).as<ast::If>();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(sx(*node->cond), "(> $x 1)");
  EXPECT_EQ(node->then_body.size(), 1u);
  EXPECT_TRUE(node->else_body.empty());
}

TEST(ParserStmt, LoopsJumpsAndBlocks) {
  Body b = body("unroll(4) { @i++ } while ($i < 10) { $i++; if ($i == 5) "
                "{ break; } continue } return; { $q = 1; { } }");
  ASSERT_EQ(b.stmts().size(), 4u);
  auto *unroll = b.at(0).as<ast::Unroll>();
  ASSERT_NE(unroll, nullptr);
  EXPECT_EQ(sx(*unroll->count), "4");
  EXPECT_EQ(unroll->body.size(), 1u);

  auto *loop = b.at(1).as<ast::While>();
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(sx(*loop->cond), "(< $i 10)");
  ASSERT_EQ(loop->body.size(), 3u);
  auto *brk = loop->body[1]->as<ast::If>()->then_body[0]->as<ast::Jump>();
  ASSERT_NE(brk, nullptr);
  EXPECT_EQ(brk->jump, ast::JumpKind::Break);
  EXPECT_EQ(loop->body[2]->as<ast::Jump>()->jump, ast::JumpKind::Continue);

  EXPECT_EQ(b.at(2).as<ast::Jump>()->jump, ast::JumpKind::Return);

  auto *block = b.at(3).as<ast::BlockStmt>();
  ASSERT_NE(block, nullptr);
  ASSERT_EQ(block->body.size(), 2u);
  EXPECT_TRUE(block->body[1]->as<ast::BlockStmt>()->body.empty());
}

TEST(ParserStmt, SemicolonsAreSeparators) {
  // Optional before '}' and after block statements; stray ones are allowed.
  EXPECT_EQ(body("@a = 1").stmts().size(), 1u);
  EXPECT_EQ(body("@a = 1;").stmts().size(), 1u);
  EXPECT_EQ(body("if (1) { } @a = 1").stmts().size(), 2u);
  EXPECT_EQ(body("if (1) { }; @a = 1;").stmts().size(), 2u);
  EXPECT_EQ(body("while (1) { } unroll(2) { } { } @a = 1").stmts().size(), 4u);
  EXPECT_EQ(body("").stmts().size(), 0u);
  EXPECT_EQ(body(";; @a = 1;;").stmts().size(), 1u);
}

TEST(ParserStmt, ExpressionStatements) {
  Body b = body("printf(\"%d\\n\", pid); exit(); ustack; kstack(perf)");
  ASSERT_EQ(b.stmts().size(), 4u);
  EXPECT_EQ(sx(*b.at(0).as<ast::ExprStmt>()->expr),
            "(call printf \"%d\n\" pid)");
  EXPECT_EQ(sx(*b.at(2).as<ast::ExprStmt>()->expr), "ustack");
}

// --------------------------------------------------------------- top level

struct AttachCase {
  const char *text;
  std::vector<std::string> parts;
};

TEST(ParserTopLevel, AttachPointsAreSplitOnColons) {
  const AttachCase cases[] = {
      {"BEGIN", {"BEGIN"}},
      {"END", {"END"}},
      {"tracepoint:syscalls:sys_enter_openat",
       {"tracepoint", "syscalls", "sys_enter_openat"}},
      {"t:sched:*", {"t", "sched", "*"}},
      {"kprobe:vfs_read", {"kprobe", "vfs_read"}},
      {"kprobe:vfs_*", {"kprobe", "vfs_*"}},
      {"kretprobe:foo+0x10", {"kretprobe", "foo+0x10"}},
      {"uprobe:/usr/bin/bash:readline",
       {"uprobe", "/usr/bin/bash", "readline"}},
      {"uprobe:libc:malloc", {"uprobe", "libc", "malloc"}},
      {"uprobe:/path/with-dash.so.6:foo*",
       {"uprobe", "/path/with-dash.so.6", "foo*"}},
      {"interval:s:1", {"interval", "s", "1"}},
      {"interval:ms:100", {"interval", "ms", "100"}},
      {"profile:hz:99", {"profile", "hz", "99"}},
      {"software:page-faults:100", {"software", "page-faults", "100"}},
      {"hardware:cache-misses:1000000",
       {"hardware", "cache-misses", "1000000"}},
      {"rawtracepoint:sched_switch", {"rawtracepoint", "sched_switch"}},
      {"kfunc:vfs_read", {"kfunc", "vfs_read"}},
      {"fentry:mod:func", {"fentry", "mod", "func"}},
      {"usdt:/bin/x:provider:probe", {"usdt", "/bin/x", "provider", "probe"}},
      {"kprobe:", {"kprobe", ""}},
  };
  for (const auto &c : cases) {
    auto program = parse_ok(std::string(c.text) + " { }");
    ASSERT_NE(program, nullptr) << c.text;
    ASSERT_EQ(program->probes.size(), 1u) << c.text;
    ASSERT_EQ(program->probes[0].attach_points.size(), 1u) << c.text;
    const auto &point = program->probes[0].attach_points[0];
    EXPECT_EQ(point.raw, c.text);
    EXPECT_EQ(point.parts, c.parts) << c.text;
    EXPECT_EQ(range(point.range),
              "1:1-1:" + std::to_string(std::string(c.text).size()));
  }
}

TEST(ParserTopLevel, AttachPointLists) {
  auto program = parse_ok("BEGIN,END{}\n"
                          "kprobe:a,\n"
                          "  kprobe:b ,kretprobe:c\n"
                          "{ }\n"
                          "BEGIN{@a=1}");
  ASSERT_EQ(program->probes.size(), 3u);
  auto raws = [&](size_t i) {
    std::vector<std::string> out;
    for (const auto &point : program->probes[i].attach_points)
      out.push_back(point.raw);
    return out;
  };
  EXPECT_EQ(raws(0), (std::vector<std::string>{"BEGIN", "END"}));
  EXPECT_EQ(raws(1),
            (std::vector<std::string>{"kprobe:a", "kprobe:b", "kretprobe:c"}));
  EXPECT_EQ(range(program->probes[1].attach_points[2].range), "3:13-3:23");
  EXPECT_EQ(raws(2), (std::vector<std::string>{"BEGIN"}));
  EXPECT_EQ(program->probes[2].body.size(), 1u);
}

TEST(ParserTopLevel, Predicates) {
  auto predicate = [](const std::string &text) {
    auto program = parse_ok(text);
    if (!program || !program->probes[0].predicate)
      return std::string("<none>");
    return sx(*program->probes[0].predicate);
  };
  EXPECT_EQ(predicate("kprobe:f { }"), "<none>");
  EXPECT_EQ(predicate("kprobe:f /pid == 1/ { }"), "(== pid 1)");
  EXPECT_EQ(predicate("kprobe:f/pid/{ }"), "pid");
  EXPECT_EQ(predicate("BEGIN /1/ { }"), "1");
  // Division inside a predicate; the last '/' is the one before '{'.
  EXPECT_EQ(predicate("kprobe:f / pid / 2 == 0 / { }"), "(== (/ pid 2) 0)");
  // A ternary in a predicate is not an attach point.
  EXPECT_EQ(predicate("kprobe:f /pid ? a:b/ { }"), "(? pid a b)");
  EXPECT_EQ(predicate("uprobe:/bin/bash:readline\n/comm == \"bash\"/\n{ }"),
            "(== comm \"bash\")");
  EXPECT_EQ(predicate("kprobe:f /pid/ // why\n /* more */ { }"), "pid");
}

TEST(ParserTopLevel, ColonsInsideProbesAreTernaries) {
  Body b = body("$x = pid ? a:b; @y = c ?d:e");
  EXPECT_EQ(sx(*b.at(0).as<ast::AssignVar>()->value), "(? pid a b)");
  EXPECT_EQ(sx(*b.at(1).as<ast::AssignMap>()->value), "(? c d e)");
}

TEST(ParserTopLevel, ConfigAndMapDeclarations) {
  auto program = parse_ok("config = { max_map_keys = 0x100; stack_mode = perf; "
                          "name = \"a\\tb\" }\n"
                          "let @m = lruhash(1_000);\n"
                          "let @p = percpuarray(1);\n"
                          "BEGIN { }");
  ASSERT_EQ(program->config.size(), 3u);
  EXPECT_EQ(program->config[0].key, "max_map_keys");
  EXPECT_EQ(program->config[0].value, "256");
  EXPECT_EQ(program->config[1].key, "stack_mode");
  EXPECT_EQ(program->config[1].value, "perf");
  EXPECT_EQ(program->config[2].value, "a\tb");
  EXPECT_EQ(range(program->config[1].range), "1:34-1:50");
  ASSERT_EQ(program->map_decls.size(), 2u);
  EXPECT_EQ(program->map_decls[0].name, "@m");
  EXPECT_EQ(program->map_decls[0].storage, "lruhash");
  EXPECT_EQ(program->map_decls[0].max_entries, 1000u);
  EXPECT_EQ(range(program->map_decls[0].range), "2:1-2:24");
  EXPECT_EQ(program->map_decls[1].storage, "percpuarray");
  EXPECT_EQ(program->probes.size(), 1u);

  EXPECT_TRUE(parse_ok("config = { } BEGIN { }")->config.empty());
  EXPECT_EQ(parse_ok("config = { a = 1; }; BEGIN { }")->config.size(), 1u);
}

TEST(ParserTopLevel, CommentsAndShebang) {
  auto program = parse_ok("#!/usr/bin/env hvt\n"
                          "// line comment\n"
                          "/* block\n comment */ BEGIN /* here */ { // x\n"
                          "  @a = 1; /* inline */ @b = 2;\n"
                          "}\n");
  ASSERT_EQ(program->probes.size(), 1u);
  EXPECT_EQ(program->probes[0].body.size(), 2u);
  EXPECT_EQ(range(program->probes[0].range), "4:13-6:1");
}

TEST(ParserTopLevel, KeywordsCanBeFieldNames) {
  EXPECT_EQ(expr("args->if + $s.while + $s.int8 + $s.config"),
            "(+ (+ (+ (-> args if) (. $s while)) (. $s int8)) (. $s config))");
}

// ----------------------------------------------------------------- ranges

TEST(ParserRanges, ExpressionNodes) {
  //                        1         2         3         4
  //                1234567890123456789012345678901234567890123456
  auto program = parse_ok("BEGIN { @x[comm, 1] = count() + args->size; }");
  auto *assign = program->probes[0].body[0]->as<ast::AssignMap>();
  EXPECT_EQ(range(assign->range), "1:9-1:42");
  EXPECT_EQ(range(assign->map->range), "1:9-1:19");
  EXPECT_EQ(range(assign->map->name_range), "1:9-1:10");
  EXPECT_EQ(range(assign->map->keys[0]->range), "1:12-1:15");
  EXPECT_EQ(range(assign->map->keys[1]->range), "1:18-1:18");
  auto *sum = assign->value->as<ast::Binary>();
  EXPECT_EQ(range(sum->range), "1:23-1:42");
  auto *call = sum->lhs->as<ast::Call>();
  EXPECT_EQ(range(call->range), "1:23-1:29");
  EXPECT_EQ(range(call->name_range), "1:23-1:27");
  auto *field = sum->rhs->as<ast::Field>();
  EXPECT_EQ(range(field->range), "1:33-1:42");
  EXPECT_EQ(range(field->field_range), "1:39-1:42");
  EXPECT_EQ(range(field->object->range), "1:33-1:36");
}

TEST(ParserRanges, StatementsProbesAndProgram) {
  auto program = parse_ok("kprobe:f /pid/\n"
                          "{\n"
                          "  $x = \"s\";\n"
                          "  if ($x) {\n"
                          "    $x++\n"
                          "  } else if (1) { }\n"
                          "}\n");
  const auto &probe = program->probes[0];
  EXPECT_EQ(range(probe.range), "1:1-7:1");
  EXPECT_EQ(range(probe.predicate->range), "1:11-1:13");
  auto *assign = probe.body[0]->as<ast::AssignVar>();
  EXPECT_EQ(range(assign->range), "3:3-3:10");
  EXPECT_EQ(range(assign->var->range), "3:3-3:4");
  EXPECT_EQ(range(assign->value->range), "3:8-3:10");
  auto *outer = probe.body[1]->as<ast::If>();
  EXPECT_EQ(range(outer->range), "4:3-6:19");
  EXPECT_EQ(range(outer->then_body[0]->range), "5:5-5:8");
  EXPECT_EQ(range(outer->else_body[0]->range), "6:10-6:19");
  EXPECT_EQ(range(program->range), "1:1-7:1");
}

TEST(ParserRanges, ParenthesesAreInsideTheOuterNode) {
  auto program = parse_ok("BEGIN { $r = (1 + 2) * 3; }");
  auto *mul = program->probes[0].body[0]->as<ast::AssignVar>()->value.get();
  EXPECT_EQ(range(mul->range), "1:14-1:24");
  EXPECT_EQ(range(mul->as<ast::Binary>()->lhs->range), "1:15-1:19");
}

TEST(ParserRanges, TabsAndNonAsciiCountBytes) {
  auto program = parse_ok("BEGIN {\t$s = \"\xc3\xa9\"; $t = 1; }");
  auto *second = program->probes[0].body[1]->as<ast::AssignVar>();
  EXPECT_EQ(range(second->var->range), "1:20-1:21");
}

// --------------------------------------------------------------- limits

// Runs `test` on a thread with a 512 MB stack (reserved, not committed).
// Optimized builds parse these inputs within ~1 MB, but sanitizer builds
// use some 40 times more stack per parser rule than that.
void with_large_stack(std::function<void()> test) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t{512} << 20);
  pthread_t thread;
  auto body = [](void *arg) -> void * {
    (*static_cast<std::function<void()> *>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &test), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

TEST(ParserLimits, ThousandNestedParenthesesAreFine) {
  with_large_stack([] {
    std::string text = "BEGIN { $r = " + std::string(1000, '(') + "1" +
                       std::string(1000, ')') + "; }";
    EXPECT_NE(parse_ok(text), nullptr);
  });
}

TEST(ParserLimits, DeeplyNestedBlocksAreFine) {
  with_large_stack([] {
    std::string text = "BEGIN ";
    for (int i = 0; i < 998; ++i)
      text += "{ if (1) ";
    text += "{ $x = 1; }";
    text += std::string(998, '}');
    auto program = parse_ok(text);
    ASSERT_NE(program, nullptr);
    const ast::StmtList *level = &program->probes[0].body;
    int depth = 0;
    while (!level->empty() && level->front()->as<ast::If>()) {
      level = &level->front()->as<ast::If>()->then_body;
      ++depth;
    }
    EXPECT_EQ(depth, 998);
  });
}

TEST(ParserLimits, LongOperatorChainsDoNotCrash) {
  with_large_stack([] {
    std::string chain = "1";
    for (int i = 0; i < 100000; ++i)
      chain += "+1";
    Parsed parsed = parse("BEGIN { $r = " + chain + "; }");
    EXPECT_EQ(parsed.program, nullptr);
    EXPECT_NE(parsed.diagnostics.find(
                  "error: expression nested too deeply (limit 1000)"),
              std::string::npos);

    // Within the limit, a long chain is fine.
    std::string shorter = "1";
    for (int i = 0; i < 900; ++i)
      shorter += " - 1";
    EXPECT_NE(parse_ok("BEGIN { $r = " + shorter + "; }"), nullptr);
  });
}

TEST(ParserLimits, LongPrefixChainsDoNotCrash) {
  with_large_stack([] {
    for (const char *op : {"-", "!", "~", "*", "- "}) {
      std::string ops;
      for (int i = 0; i < 50000; ++i)
        ops += op;
      Parsed parsed = parse("BEGIN { $r = " + ops + "1; }");
      EXPECT_EQ(parsed.program, nullptr) << op;
      EXPECT_NE(parsed.diagnostics.find("expression nested too deeply"),
                std::string::npos)
          << op;
    }
  });
}

TEST(ParserLimits, LongElseIfChainsDoNotCrash) {
  with_large_stack([] {
    std::string text = "BEGIN { if (1) { }";
    for (int i = 0; i < 5000; ++i)
      text += " else if (1) { }";
    Parsed parsed = parse(text + " }");
    EXPECT_EQ(parsed.program, nullptr);
    EXPECT_NE(parsed.diagnostics.find(
                  "error: statements nested too deeply (limit 1000)"),
              std::string::npos);
  });
}

TEST(ParserLimits, ManyProbes) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "kprobe:f" + std::to_string(i) +
            " /pid != 1/ { @x[comm] = count(); $a = arg0 - arg1; }\n";
  auto program = parse_ok(text);
  ASSERT_NE(program, nullptr);
  EXPECT_EQ(program->probes.size(), 2000u);
}

// The compile runs work on the parser's thread while it loads the code
// generator, then lets that thread fault in the heap (driver/pipeline.cpp).
TEST(ParserStack, AfterwardsRunsOnTheWorkThreadOnceWorkIsDone) {
  pthread_t caller = pthread_self(), worker{};
  bool meanwhile_ran = false;
  std::promise<std::pair<bool, bool>>
      afterwards_saw; // (same thread, work done)
  auto seen = afterwards_saw.get_future();
  auto work_done = std::make_shared<std::atomic<bool>>(false);
  with_parser_stack(
      [&] {
        worker = pthread_self();
        *work_done = true;
      },
      [&] { meanwhile_ran = true; },
      [&afterwards_saw, &worker, work_done] {
        afterwards_saw.set_value(
            {pthread_equal(worker, pthread_self()) != 0, work_done->load()});
      });
  EXPECT_TRUE(meanwhile_ran);
  EXPECT_FALSE(pthread_equal(worker, caller));
  ASSERT_EQ(seen.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto [same_thread, after_work] = seen.get();
  EXPECT_TRUE(same_thread);
  EXPECT_TRUE(after_work);
}

TEST(ParserStack, AfterwardsDoesNotRunWhenWorkThrows) {
  std::atomic<bool> ran{false};
  EXPECT_THROW(with_parser_stack([] { throw std::runtime_error("no"); }, {},
                                 [&ran] { ran = true; }),
               std::runtime_error);
  // It would have run right after the exception was handed over.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(ran);
}

} // namespace
} // namespace hvt
