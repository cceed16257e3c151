# Fuzz targets sit beside the parsers they exercise (`*_fuzz.cc`, an LLVMFuzzerTestOneInput).
# With MESHNODE_FUZZ (clang) each becomes a libFuzzer binary (scripts/fuzz.sh runs them). In
# every other build each is linked with a small driver that replays its corpus under
# tests/fuzz/corpus/<name>/ as a unit test, so what fuzzing once found stays fixed.
option(MESHNODE_FUZZ "Build the fuzz targets with libFuzzer (clang only)" OFF)

if(MESHNODE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MESHNODE_FUZZ needs clang (CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(meshnode_fuzz_target name source)
  set(target fuzz_${name})
  add_executable(${target} ${source})
  meshnode_target(${target})
  target_link_libraries(${target} PRIVATE ${ARGN})
  if(MESHNODE_FUZZ)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    if(MESHNODE_TESTS)
      add_test(NAME fuzz_corpus_${name}
               COMMAND ${target} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
      set_tests_properties(fuzz_corpus_${name} PROPERTIES LABELS unit)
    endif()
  endif()
endfunction()
