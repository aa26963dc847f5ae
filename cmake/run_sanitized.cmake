# Configure, build and run the whole test suite with
# -fsanitize=address,undefined.  Run as: cmake -DSRC=.. -DBIN=.. -P this
include(ProcessorCount)
ProcessorCount(jobs)
if(jobs EQUAL 0)
  set(jobs 2)
endif()
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SRC} -B ${BIN} -DMS_SANITIZE=ON
    -DCMAKE_BUILD_TYPE=Debug)
run(${CMAKE_COMMAND} --build ${BIN} -j ${jobs})
set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=0")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
run(ctest --test-dir ${BIN} --output-on-failure -j ${jobs})
