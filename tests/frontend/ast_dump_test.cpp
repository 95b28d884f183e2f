// ast::dump_ast, the `--dump-ast` output.
#include "frontend/parser.h"

#include <gtest/gtest.h>

namespace hvt {
namespace {

TEST(AstDump, SmallProgram) {
  SourceFile file("stdin",
                  "config = { max_map_keys = 0x10 }\n"
                  "let @m = lruhash(100);\n"
                  "kprobe:vfs_read, kprobe:vfs_write /pid != 0/ {\n"
                  "  @m[comm, tid] = count();\n"
                  "  $n += (uint32)arg2 * 2;\n"
                  "  if ($n > 10) { @big++; } else { $t = (1, \"a\\n\"); "
                  "print($t.1) }\n"
                  "  unroll(2) { --$n }\n"
                  "  while ($n) { break; }\n"
                  "  { return }\n"
                  "  printf(\"%s %d\\n\", curtask->comm, $1 ? -$# : "
                  "@m[\"x\", 1]);\n"
                  "}\n");
  Diagnostics diags;
  auto program = parse_program(file, diags);
  ASSERT_EQ(diags.render(file), "");
  ASSERT_NE(program, nullptr);
  EXPECT_EQ(ast::dump_ast(*program), R"(Program
  Config max_map_keys = 16
  MapDecl @m = lruhash(100)
  Probe kprobe:vfs_read, kprobe:vfs_write
    Predicate
      Binary !=
        Builtin pid
        Integer 0
    AssignMap =
      Map @m
        Builtin comm
        Builtin tid
      Call count
    AssignVar $n +=
      Binary *
        Cast uint32
          Builtin arg2
        Integer 2
    If
      Binary >
        Variable $n
        Integer 10
      Then
        ExprStmt
          Unary post++
            Map @big
      Else
        AssignVar $t =
          Tuple
            Integer 1
            String "a\n"
        ExprStmt
          Call print
            TupleIndex .1
              Variable $t
    Unroll
      Integer 2
      Body
        ExprStmt
          Unary pre--
            Variable $n
    While
      Variable $n
      Body
        Jump break
    Block
      Jump return
    ExprStmt
      Call printf
        String "%s %d\n"
        Field ->comm
          Builtin curtask
        Ternary
          Positional $1
          Unary -
            Positional $#
          Map @m
            String "x"
            Integer 1
)");
}

} // namespace
} // namespace hvt
