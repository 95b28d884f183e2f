// Macro expansion in the program, right after parsing: a bare identifier
// (ast::Builtin) that is not one of hvt's builtins and names an object-like
// macro of the script or of a header it included (frontend/preprocessor.h)
// is replaced by the expression its full expansion parses to. As in
// bpftrace, builtins win over macros of the same name, and function-like
// macros are not expanded in the program (a call to one is an error that
// says so). Every node of an expansion carries the identifier's range, so
// later errors point at the use; they get a note naming the macro and where
// it was defined (add_macro_notes).
#pragma once

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "frontend/preprocessor.h"

#include <string>
#include <vector>

namespace hvt {

// The expansions made, for add_macro_notes().
struct MacroExpansions {
  struct Use {
    SourceRange at;      // the identifier in the program
    SourceRange defined; // its #define in the script (invalid for headers)
    std::string note;
  };
  std::vector<Use> uses;
};

MacroExpansions expand_macros(ast::Program &program, Preprocessed &macros,
                              Diagnostics &diags);

// Gives each diagnostic that points exactly at an expanded identifier, and
// has no note yet, the note of its macro.
void add_macro_notes(Diagnostics &diags, const MacroExpansions &expansions);

// The builtin variables and functions the type checker knows
// (passes/type_checker.cpp): those names are never expanded.
const std::vector<std::string> &builtin_names();
const std::vector<std::string> &function_names();

} // namespace hvt
