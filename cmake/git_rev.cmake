# Writes OUT, a header defining GRADSCOPE_GIT_REV as the source tree's `git describe --always
# --dirty` ("unknown" outside a git checkout). Run at every build (a revision taken when CMake
# configures goes stale as commits come); the file is rewritten only when the revision changed,
# so an unchanged tree recompiles nothing. Usage: cmake -DSRC=<source dir> -DOUT=<header> -P
# git_rev.cmake
execute_process(COMMAND git describe --always --dirty WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rev)
  set(rev unknown)
endif()
set(text "// Generated at build time by cmake/git_rev.cmake: the source tree's revision.
#define GRADSCOPE_GIT_REV \"${rev}\"
")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
