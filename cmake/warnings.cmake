# One set of warnings for every target of the project; third-party C sources are exempt.
set(MESHNODE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
# GCC 12 misreads asio's coroutine frame allocator as a mismatched new/delete pair.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND MESHNODE_WARNINGS -Wno-mismatched-new-delete)
endif()
if(MESHNODE_WERROR)
  list(APPEND MESHNODE_WARNINGS -Werror)
endif()

if(MESHNODE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(meshnode_target name)
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${MESHNODE_WARNINGS}>)
endfunction()
