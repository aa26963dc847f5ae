# Every test is registered with ctest, so `ctest` is the one line that says
# whether everything works: the core's C unit tests, one ctest entry per
# busted spec (run under the momsandbox CLI), and -- in a normal build --
# the whole suite once more in a build with AddressSanitizer + UBSan.

find_program(BUSTED busted REQUIRED)

# ---------------------------------------------------- C unit tests (core)
file(GLOB MS_CORE_TESTS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/core/tests/test_*.c)
foreach(src IN LISTS MS_CORE_TESTS)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} $<TARGET_OBJECTS:ms_core>)
  target_include_directories(${name} PRIVATE core/include core/src core/tests)
  target_compile_definitions(${name} PRIVATE MS_SOURCE_DATA_DIR="${CMAKE_SOURCE_DIR}/data")
  target_link_libraries(${name} PRIVATE m)
  add_test(NAME core.${name} COMMAND ${name})
endforeach()

# test_null_api calls every function of the public headers with NULL
# arguments; the calls are generated from the headers at build time, so a
# function added to a header, or a header added, is covered without anyone
# remembering to.  (GLOB sorts: momsandbox.h, which the others include,
# comes first.)
file(GLOB MS_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/core/include/*.h)
string(REPLACE ";" "|" MS_PUBLIC_HEADERS_ARG "${MS_PUBLIC_HEADERS}")
set(MS_NULL_API_CALLS ${CMAKE_BINARY_DIR}/gen/null_api_calls.c)
add_custom_command(
  OUTPUT ${MS_NULL_API_CALLS}
  COMMAND ${CMAKE_COMMAND} -DOUT=${MS_NULL_API_CALLS}
          "-DHEADERS=${MS_PUBLIC_HEADERS_ARG}"
          -DFIXTURES=${CMAKE_SOURCE_DIR}/core/tests/null_api.h
          -P ${CMAKE_SOURCE_DIR}/cmake/gen_null_api.cmake
  DEPENDS ${MS_PUBLIC_HEADERS} ${CMAKE_SOURCE_DIR}/core/tests/null_api.h
          ${CMAKE_SOURCE_DIR}/cmake/gen_null_api.cmake
  VERBATIM
  COMMENT "Generating the NULL-argument calls of the public API")
target_sources(test_null_api PRIVATE ${MS_NULL_API_CALLS})
target_compile_definitions(test_null_api PRIVATE
  "MS_PUBLIC_HEADERS=\"${MS_PUBLIC_HEADERS_ARG}\"")

# ------------------------------------------------------------ busted specs
# spec/*_spec.lua are user-level: they run under both bindings, the Lua 5.4
# module in the momsandbox CLI (spec.NAME) and the LuaJIT binding through
# build/momsandbox-jit (spec.jit.NAME).  What is particular to one binding
# lives in spec/lua54/ (spec.lua54.NAME) and spec/ffi/ (spec.ffi.NAME).
set(MS_SPEC_ENV
  MOMSANDBOX_BIN=$<TARGET_FILE:momsandbox_cli>
  MOMSANDBOX_BUILD=${CMAKE_BINARY_DIR})
set(MS_JIT_ENV
  MOMSANDBOX_BIN=${CMAKE_BINARY_DIR}/momsandbox-jit
  MOMSANDBOX_BUILD=${CMAKE_BINARY_DIR}
  MOMSANDBOX_LIB=$<TARGET_LINKER_FILE:momsandbox_core>)
if(MS_SANITIZE)
  # A stock lua5.4 loading the instrumented module needs the ASan runtime
  # first; leaks of the uninstrumented interpreter are not ours to report.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE MS_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(APPEND MS_SPEC_ENV MOMSANDBOX_PRELOAD=${MS_LIBASAN}
       MOMSANDBOX_SANITIZE=1)
  # So does luajit loading the instrumented library, and with it everything
  # the specs start.  No leak checks there: LuaJIT keeps the engine's
  # objects in memory of its own that LeakSanitizer does not scan, and frees
  # them only when the garbage collector runs, which a process ending with
  # os.exit skips.  (The C tests and the Lua 5.4 specs check for leaks.)
  list(APPEND MS_JIT_ENV LD_PRELOAD=${MS_LIBASAN} MOMSANDBOX_PRELOAD=${MS_LIBASAN}
       MOMSANDBOX_SANITIZE=1 ASAN_OPTIONS=detect_leaks=0)
endif()

# The specs dir/*_spec.lua as ctest entries spec.<prefix>NAME, run by
# busted under the interpreter lua with env.
function(ms_add_specs dir prefix lua env)
  file(GLOB specs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*_spec.lua)
  foreach(spec IN LISTS specs)
    get_filename_component(name ${spec} NAME_WE)
    string(REGEX REPLACE "_spec$" "" name ${name})
    add_test(NAME spec.${prefix}${name}
             COMMAND ${BUSTED} --lua=${lua} --output=TAP ${dir}/${name}_spec.lua
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(spec.${prefix}${name} PROPERTIES ENVIRONMENT "${env}"
                         TIMEOUT 600)
  endforeach()
endfunction()

ms_add_specs(spec "" $<TARGET_FILE:momsandbox_cli> "${MS_SPEC_ENV}")
ms_add_specs(spec/lua54 lua54. $<TARGET_FILE:momsandbox_cli> "${MS_SPEC_ENV}")
if(LUAJIT)
  ms_add_specs(spec jit. ${CMAKE_BINARY_DIR}/momsandbox-jit "${MS_JIT_ENV}")
  ms_add_specs(spec/ffi ffi. ${CMAKE_BINARY_DIR}/momsandbox-jit "${MS_JIT_ENV}")
else()
  message(STATUS "luajit not found: the LuaJIT binding's specs are left out")
endif()

# ------------------------------------------------ fuzzing the Lua API
# spec/fuzz_api.lua makes random calls of the API with good and bad values
# for 25 s with a fixed seed under each interpreter: the process must
# survive them (longer runs: docs/fuzzing.md).  ulimit -v: a call the
# allocator would grant gigabytes must fail rather than fill the machine;
# AddressSanitizer reserves terabytes of address space, so there its
# allocator returns NULL for large requests instead.
set(MS_FUZZ_API_RUN [=[
log=$1; shift
[ -n "$MOMSANDBOX_SANITIZE" ] || ulimit -v 4000000
"$@" spec/fuzz_api.lua --seconds 25 --seed 1 --log "$log" && exit 0
echo "fuzz_api died (status $?) in this call (replay: $* spec/fuzz_api.lua --seed 1 --calls N --verbose):"
tail -n 1 "$log"
exit 1]=])
set(MS_FUZZ_API_ENV ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1)
add_test(NAME fuzz.api
         COMMAND sh -c "${MS_FUZZ_API_RUN}" sh ${CMAKE_BINARY_DIR}/fuzz_api.log
                 $<TARGET_FILE:momsandbox_cli>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(fuzz.api PROPERTIES TIMEOUT 120
                     ENVIRONMENT "${MS_SPEC_ENV};${MS_FUZZ_API_ENV}")
if(LUAJIT)
  add_test(NAME fuzz.api.jit
           COMMAND sh -c "${MS_FUZZ_API_RUN}" sh ${CMAKE_BINARY_DIR}/fuzz_api_jit.log
                   ${CMAKE_BINARY_DIR}/momsandbox-jit
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(fuzz.api.jit PROPERTIES TIMEOUT 120
                       ENVIRONMENT "${MS_JIT_ENV};${MS_FUZZ_API_ENV}")
endif()

# ------------------------------------------- fuzzing the data parser
# A short libFuzzer run of core/tests/fuzz_data.c on every `ctest` (longer
# runs: docs/fuzzing.md).  The harness needs clang with libFuzzer (Debian:
# clang, libclang-rt-dev); without it the test reports itself skipped.  It
# is instrumented already, so the sanitized build leaves it out.
if(NOT MS_SANITIZE)
  find_program(MS_CLANG NAMES clang clang-16 clang-15 clang-14)
  set(MS_FUZZ_FLAGS -g -O1 -fsanitize=fuzzer,address,undefined -ffp-contract=off)
  set(MS_FUZZ_HAS_LIBFUZZER FALSE)
  if(MS_CLANG)
    set(probe ${CMAKE_BINARY_DIR}/fuzz_probe.c)
    file(WRITE ${probe} "int LLVMFuzzerTestOneInput(const unsigned char *d, "
                        "unsigned long n) { return (int)(d == 0 && n); }\n")
    execute_process(COMMAND ${MS_CLANG} ${MS_FUZZ_FLAGS} ${probe}
                            -o ${CMAKE_BINARY_DIR}/fuzz_probe
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(MS_FUZZ_HAS_LIBFUZZER TRUE)
    endif()
  endif()
  if(MS_FUZZ_HAS_LIBFUZZER)
    # the parser and what it calls, compiled by clang with the harness
    set(MS_FUZZ_SOURCES core/tests/fuzz_data.c core/src/data.c
        core/src/status.c core/src/interrupt.c core/src/sigint.c
        core/src/mem.c core/src/vec.c core/src/simd.c core/src/rng.c)
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/fuzz_data
      COMMAND ${MS_CLANG} ${MS_FUZZ_FLAGS} -I core/include -I core/src
              ${MS_FUZZ_SOURCES} -lm -o ${CMAKE_BINARY_DIR}/fuzz_data
      DEPENDS ${MS_FUZZ_SOURCES} core/src/internal.h core/src/simd.h ${MS_HEADERS}
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
      COMMENT "Building the data parser's fuzzer with ${MS_CLANG}")
    add_custom_target(ms_fuzz_data ALL DEPENDS ${CMAKE_BINARY_DIR}/fuzz_data)
    # new inputs go to the build's corpus, never into the source tree
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-corpus)
    add_test(NAME fuzz.data
      COMMAND ${CMAKE_BINARY_DIR}/fuzz_data -max_total_time=10 -seed=1
              -max_len=4096 -timeout=10 -print_final_stats=1
              -dict=${CMAKE_SOURCE_DIR}/core/tests/fuzz/data.dict
              -artifact_prefix=${CMAKE_BINARY_DIR}/fuzz-
              ${CMAKE_BINARY_DIR}/fuzz-corpus
              ${CMAKE_SOURCE_DIR}/core/tests/fuzz/seeds)
  else()
    add_test(NAME fuzz.data COMMAND sh -c
      "echo 'fuzz.data skipped: no clang with libFuzzer (apt-get install clang libclang-rt-dev)'; exit 77")
    set_tests_properties(fuzz.data PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()

# ------------------------------------------------- luacheck over all Lua
# Every Lua file of the project, with the settings of .luacheckrc.
find_program(LUACHECK luacheck)
if(LUACHECK)
  add_test(NAME lint.lua
    COMMAND ${LUACHECK} --no-color -q lua scripts bench spec bindings/ffi
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
else()
  add_test(NAME lint.lua COMMAND sh -c
    "echo 'lint.lua skipped: no luacheck (apt-get install lua-check)'; exit 77")
  set_tests_properties(lint.lua PROPERTIES SKIP_RETURN_CODE 77)
endif()

# ------------------------------------- the whole suite under ASan + UBSan
if(NOT MS_SANITIZE)
  set(MS_ASAN_DIR ${CMAKE_BINARY_DIR}/asan)
  add_test(NAME sanitize.suite
    COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DBIN=${MS_ASAN_DIR}
            -P ${CMAKE_SOURCE_DIR}/cmake/run_sanitized.cmake)
  # a few minutes on an idle two-core machine, but five times that and
  # more when the machine is busy: luajit and what it starts (gnuplot too)
  # run under LD_PRELOAD's ASan runtime
  set_tests_properties(sanitize.suite PROPERTIES TIMEOUT 3600 RUN_SERIAL ON)
endif()
