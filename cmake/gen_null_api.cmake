# Writes the calls of core/tests/test_null_api.c: one C function per
# function declared in the public headers -- every core/include/*.h: the
# engine's momsandbox.h, the hosts' momsandbox_host.h, the bindings'
# momsandbox_pull.h -- so that a function added to a header, or a header
# added, is tested without anyone remembering to.  Run as:
#   cmake -DOUT=calls.c -DHEADERS=a.h|b.h -DFIXTURES=fixtures.h -P this
# with the engine's header first (the others include it).
#
# Each generated call_<name>(out, f, k) calls the function once:
#   f == NULL  every pointer NULL, every size 0, every double NaN;
#   f != NULL  argument k NULL (none when k is -1), the others taken from
#              f (objects, arrays and strings of the fixture, sizes 2,
#              doubles 0.5), so that the NULL reaches the function past
#              its other checks.
# Fixtures exist per parameter type, named after it ("const double *" is
# f->double_p, "ms_rule **" f->ms_rule_pp); the names are read from the
# struct in FIXTURES, and a type without one is passed as NULL in both
# modes (the test lists those).
#
# The parsing is that of a declaration list LuaJIT's ffi.cdef accepts (see
# the header's rules): comments and '#' lines dropped, statements split at
# ';', a function being "<type> ms_name(<parameters>)" with no parentheses
# in its parameters (function pointers are typedefs).
cmake_minimum_required(VERSION 3.20)
string(REPLACE "|" ";" HEADERS "${HEADERS}")

# Text without /* */ comments (a regular expression over a long comment
# would backtrack at length: find the delimiters instead).
function(strip_comments text out)
  set(result "")
  while(TRUE)
    string(FIND "${text}" "/*" open)
    if(open EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${text}" 0 ${open} before)
    string(APPEND result "${before} ")
    math(EXPR after "${open} + 2")
    string(SUBSTRING "${text}" ${after} -1 text)
    string(FIND "${text}" "*/" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "gen_null_api: unterminated comment")
    endif()
    math(EXPR after "${close} + 2")
    string(SUBSTRING "${text}" ${after} -1 text)
  endwhile()
  set(${out} "${result}${text}" PARENT_SCOPE)
endfunction()

# The fixture members: the identifiers declared in FIXTURES' struct
# ms_fixtures { ... }.
file(READ ${FIXTURES} fixtext)
strip_comments("${fixtext}" fixtext)
string(REGEX MATCH "struct ms_fixtures {[^}]*}" fixbody "${fixtext}")
string(REGEX MATCHALL "[A-Za-z0-9_]+ *;" fixmembers "${fixbody}")
set(FIXTURE_NAMES "")
foreach(m IN LISTS fixmembers)
  string(REGEX REPLACE " *;$" "" m "${m}")
  if(NOT m STREQUAL "")
    list(APPEND FIXTURE_NAMES ${m})
  endif()
endforeach()

set(funcs "")
set(table "")
set(includes "")
set(count 0)
foreach(header IN LISTS HEADERS)
  set(before ${count})
  string(APPEND includes "#include \"${header}\"\n")
  file(READ ${header} text)
  strip_comments("${text}" text)
  string(REGEX REPLACE "(^|\n)[ \t]*#[^\n]*" "\\1" text "${text}")
  # double R[4] is a double *R
  string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\[[0-9]*\\]" "*\\1"
         text "${text}")
  string(REGEX REPLACE "[ \t\r\n]+" " " text "${text}")
  # text is now a list of statements (CMake splits at ';')
  foreach(stmt IN LISTS text)
    string(STRIP "${stmt}" stmt)
    if(stmt MATCHES "^typedef " OR NOT stmt MATCHES
       "^(.*[^A-Za-z0-9_])(ms_[a-z0-9_]+) ?\\(([^()]*)\\)$")
      continue()
    endif()
    string(STRIP "${CMAKE_MATCH_1}" ret)
    set(name "${CMAKE_MATCH_2}")
    set(params "${CMAKE_MATCH_3}")
    if(ret MATCHES "\\*")
      set(kind MS_RET_PTR)
      set(store "r->p = (const void *)")
    elseif(ret STREQUAL "void")
      set(kind MS_RET_VOID)
      set(store "")
    elseif(ret STREQUAL "ms_status")
      set(kind MS_RET_STATUS)
      set(store "r->st = ")
    elseif(ret STREQUAL "double")
      set(kind MS_RET_DOUBLE)
      set(store "r->d = ")
    elseif(ret MATCHES "^(size_t|uint64_t|unsigned.*)$")
      set(kind MS_RET_UNSIGNED)
      set(store "r->u = ")
    else()
      set(kind MS_RET_SIGNED)
      set(store "r->i = ")
    endif()

    set(args "")
    set(nparams 0)
    set(pointers 0)     # bit k: parameter k is a pointer
    set(unfixed "")     # pointer types without a fixture
    set(names "")       # the parameters' names
    string(REPLACE "," ";" plist "${params}")
    foreach(p IN LISTS plist)
      string(STRIP "${p}" p)
      if(p STREQUAL "void" OR p STREQUAL "")
        continue()
      endif()
      if(NOT p MATCHES "^(.*[^A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)$")
        message(FATAL_ERROR "gen_null_api: cannot read parameter '${p}' of ${name}")
      endif()
      string(STRIP "${CMAKE_MATCH_1}" type)
      list(APPEND names "${CMAKE_MATCH_2}")
      # the fixture's name: the type without const, one p per *
      string(REGEX REPLACE "(^|[^A-Za-z0-9_])const([^A-Za-z0-9_]|$)" "\\1\\2"
             base "${type}")
      string(REGEX MATCHALL "\\*" stars "${base}")
      string(REPLACE "*" "" base "${base}")
      string(STRIP "${base}" base)
      set(fix "${base}")
      if(stars)
        string(APPEND fix "_")
        foreach(s IN LISTS stars)
          string(APPEND fix "p")
        endforeach()
      endif()
      set(k ${nparams})
      math(EXPR nparams "${nparams} + 1")
      if(NOT args STREQUAL "")
        string(APPEND args ",\n      ")
      endif()
      if(stars OR base MATCHES "_fn$")
        math(EXPR pointers "${pointers} | (1 << ${k})")
        if(fix IN_LIST FIXTURE_NAMES)
          string(APPEND args "f && k != ${k} ? f->${fix} : (${type})0")
        else()
          string(APPEND args "(${type})0")
          list(APPEND unfixed "${type}")
        endif()
      elseif(base STREQUAL "double")
        string(APPEND args "f ? 0.5 : NAN")
      elseif(base MATCHES "^(size_t|int64_t)$")
        string(APPEND args "(${type})(f ? 2 : 0)")
      elseif(base STREQUAL "uint64_t")
        string(APPEND args "(${type})(f ? 1 : 0)")
      else()
        string(APPEND args "(${type})0")
      endif()
    endforeach()
    if(nparams GREATER 30)
      message(FATAL_ERROR "gen_null_api: ${name} has more parameters than a mask holds")
    endif()
    string(REPLACE ";" ", " unfixed "${unfixed}")
    string(REPLACE ";" "," names "${names}")
    string(APPEND funcs
      "static void call_${name}(ms_api_out *r, const ms_fixtures *f, int k) {\n"
      "  (void)r; (void)f; (void)k;\n"
      "  ${store}${name}(${args});\n}\n\n")
    string(APPEND table "  {\"${name}\", ${kind}, ${nparams}, ${pointers}, "
                        "\"${names}\", \"${unfixed}\", call_${name}},\n")
    math(EXPR count "${count} + 1")
  endforeach()
  # every public header declares functions: none found is a header this
  # parser cannot read, whose functions would go untested
  if(count EQUAL before)
    message(FATAL_ERROR "gen_null_api: no function found in ${header}")
  endif()
endforeach()
file(WRITE ${OUT}.tmp "/* Generated by cmake/gen_null_api.cmake from the public headers:
 * do not edit. */
#include <math.h>
#include <stddef.h>

${includes}#include \"null_api.h\"

${funcs}const ms_api_call ms_api_calls[] = {
${table}};
const size_t ms_api_ncalls = ${count};
")
file(RENAME ${OUT}.tmp ${OUT})
