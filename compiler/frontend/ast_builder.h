// Private to the front end: converts an ANTLR parse tree into the hvt AST.
// Only parser.cpp and ast_builder.cpp include this (it pulls in the generated
// parser headers).
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"

#include "HvtParser.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hvt {

// How deeply expressions, and separately statements, may nest. Every pass
// after the parser recurses over the AST, so this bounds their stack use as
// well as ours. parser.cpp applies the same limit to brackets before parsing.
constexpr size_t kMaxNestingDepth = 1000;

// The range a token covers. Columns are bytes (the char stream feeds the
// lexer one byte per symbol); tokens the builder sees never span lines.
SourceRange token_range(const antlr4::Token &token);

// How to show the character at `text[offset]` in a message: printable ASCII
// as itself, a well-formed UTF-8 sequence as itself, anything else as
// `\xNN`. `length` receives the number of bytes shown.
std::string describe_char(std::string_view text, size_t offset, size_t &length);

// Builds the AST of a parse tree that had no syntax errors. Malformed
// literals and excessive nesting are reported to `diags`; if anything was
// reported the result is null.
std::unique_ptr<ast::Program>
build_ast(hvt_grammar::HvtParser::ProgramContext &tree, Diagnostics &diags);

} // namespace hvt
