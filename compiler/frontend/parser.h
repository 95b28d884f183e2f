// Front door of the front end: program text in, hvt AST out. Syntax errors
// are reported to `diags` (through a custom ANTLR error listener) with the
// offending token's range; on any error the result may be null or partial
// and must not be passed on.
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"

#include <memory>

namespace hvt {

std::unique_ptr<ast::Program> parse_program(const SourceFile &file,
                                            Diagnostics &diags);

} // namespace hvt
