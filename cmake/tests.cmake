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
  target_link_libraries(${name} PRIVATE m)
  add_test(NAME core.${name} COMMAND ${name})
endforeach()

# ------------------------------------------------------------ busted specs
set(MS_SPEC_ENV
  MOMSANDBOX_BIN=$<TARGET_FILE:momsandbox_cli>
  MOMSANDBOX_BUILD=${CMAKE_BINARY_DIR})
if(MS_SANITIZE)
  # A stock lua5.4 loading the instrumented module needs the ASan runtime
  # first; leaks of the uninstrumented interpreter are not ours to report.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE MS_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(APPEND MS_SPEC_ENV MOMSANDBOX_PRELOAD=${MS_LIBASAN}
       MOMSANDBOX_SANITIZE=1)
endif()

file(GLOB MS_SPECS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/spec/*_spec.lua)
foreach(spec IN LISTS MS_SPECS)
  get_filename_component(name ${spec} NAME_WE)
  string(REGEX REPLACE "_spec$" "" name ${name})
  add_test(NAME spec.${name}
           COMMAND ${BUSTED} --lua=$<TARGET_FILE:momsandbox_cli>
                   --output=TAP spec/${name}_spec.lua
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(spec.${name} PROPERTIES ENVIRONMENT "${MS_SPEC_ENV}"
                       TIMEOUT 600)
endforeach()

# ------------------------------------- the whole suite under ASan + UBSan
if(NOT MS_SANITIZE)
  set(MS_ASAN_DIR ${CMAKE_BINARY_DIR}/asan)
  add_test(NAME sanitize.suite
    COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DBIN=${MS_ASAN_DIR}
            -P ${CMAKE_SOURCE_DIR}/cmake/run_sanitized.cmake)
  set_tests_properties(sanitize.suite PROPERTIES TIMEOUT 1500 RUN_SERIAL ON)
endif()
