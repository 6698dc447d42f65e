# The layering is enforced at configure time (casenode_check_layering in the
# top CMakeLists.txt). This script proves it: it copies the source tree, adds
# one include that crosses a rule, configures, and requires configuration to
# fail with the layering message that names the file and the part.
# INCLUDE in angle brackets (<rocksdb/db.h>) is a system header; EXPECT=RocksDB
# expects the RocksDB rule's message, EXPECT=<dir>/internal the internal-room
# rule's.
#   cmake -DSOURCE=<repo> -DBINARY=<build tree> -DWORK=<scratch dir> -DFILE=<rel path>
#         -DINCLUDE=<header> -DFROM=<part of FILE> -DEXPECT=<part of INCLUDE>
#         -P forbidden_include.cmake
foreach(var SOURCE BINARY WORK FILE INCLUDE FROM EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "forbidden_include.cmake: -D${var}= is required")
  endif()
endforeach()
if(NOT EXISTS ${SOURCE}/${FILE})
  message(FATAL_ERROR "forbidden_include.cmake: ${FILE} is not a file of the tree")
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/src)
file(GLOB items RELATIVE ${SOURCE} ${SOURCE}/*)
foreach(item IN LISTS items)
  # Only the sources: no build trees, no git, no test tools.
  string(FIND "${BINARY}/" "${SOURCE}/${item}/" in_build)  # a build tree inside the sources
  if(item MATCHES "^(build.*|\\.git|tests|node_modules)$" OR IS_SYMLINK ${SOURCE}/${item} OR in_build EQUAL 0)
    continue()
  endif()
  file(COPY ${SOURCE}/${item} DESTINATION ${WORK}/src)
endforeach()
if(INCLUDE MATCHES "^<")
  file(APPEND ${WORK}/src/${FILE} "\n#include ${INCLUDE}\n")
else()
  file(APPEND ${WORK}/src/${FILE} "\n#include \"${INCLUDE}\"\n")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${WORK}/src -B ${WORK}/build -G Ninja -DBUILD_TESTING=OFF
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE ${WORK})
string(REGEX REPLACE "[ \n]+" " " said "${err}")
if(EXPECT STREQUAL "RocksDB")
  set(want "layering: ${FILE} includes RocksDB, which only store/")
  set(want_from "layering: ${FILE}")
elseif(EXPECT MATCHES "/internal$")
  set(want "layering: ${FILE} includes ${EXPECT}/, which only")
  set(want_from "layering: ${FILE}")
else()
  set(want "layering: ${FILE} includes a header of ${EXPECT}")
  set(want_from "but ${FROM} does not depend on it")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "configuration accepted ${FILE} including ${INCLUDE}")
endif()
string(FIND "${said}" "${want}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "configuration failed, but not with \"${want}\":\n${err}")
endif()
string(FIND "${said}" "${want_from}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "configuration failed, but did not name ${FROM} as the includer:\n${err}")
endif()
message(STATUS "refused as expected: ${want}")
