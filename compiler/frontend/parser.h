// Front door of the front end: program text in, hvt AST out. Syntax errors
// are reported to `diags` (through a custom ANTLR error listener) with the
// offending token's range; on any error the result may be null or partial
// and must not be passed on.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"

#include <functional>
#include <memory>
#include <string>

namespace hvt {

//
// The parser recurses deeply on nested input, so it runs on a thread of its
// own with a big stack (reserved, not used); see with_parser_stack().
std::unique_ptr<ast::Program> parse_program(const SourceFile &file,
                                            Diagnostics &diags);

// parse_program() on the calling thread, which must be one that
// with_parser_stack() started.
std::unique_ptr<ast::Program> parse_program_here(const SourceFile &file,
                                                 Diagnostics &diags);

// Parses `text` as exactly one expression (a macro's replacement,
// passes/macros.h). Null, with the parser's first complaint in `error`,
// when it is anything else. Node ranges point into an internal wrapping of
// `text`: the caller replaces them.
ast::ExprPtr parse_expression(const std::string &text, std::string &error);

// Runs `work` on a new thread with the stack parse_program_here() needs and
// `meanwhile` on the calling thread, and returns when both are done; an
// exception `work` throws is rethrown here. Without a thread, `work` runs on
// the calling thread, then `meanwhile`. `afterwards` (a copy of it) runs on
// the new thread once `work` is done, while the caller goes on: it must not
// throw or touch what the caller may have destroyed by then; without a
// thread it does not run. True when there was a thread (and `afterwards`
// will run).
bool with_parser_stack(const std::function<void()> &work,
                       const std::function<void()> &meanwhile = {},
                       const std::function<void()> &afterwards = {});

// For tests: the parse tree (ANTLR's text form) the SLL parse makes of
// `text`, with or without its shortcut predictions (parser.cpp); empty
// when that parse does not accept `text`.
std::string sll_parse_tree_for_testing(const std::string &text, bool shortcuts);

} // namespace hvt
