# llhttp (Node.js's HTTP/1 parser) ships in Debian as C sources (package
# node-llhttp); we compile them into a static library of our own.
set(LLHTTP_SRC_DIR /usr/share/llhttp CACHE PATH "llhttp C sources")
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp headers")
if(NOT EXISTS ${LLHTTP_SRC_DIR}/llhttp.c)
  message(FATAL_ERROR "llhttp sources not found in ${LLHTTP_SRC_DIR}: run scripts/install-deps.sh")
endif()
add_library(llhttp STATIC ${LLHTTP_SRC_DIR}/llhttp.c ${LLHTTP_SRC_DIR}/api.c ${LLHTTP_SRC_DIR}/http.c)
target_include_directories(llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
# Not a unity build: Debian's sources are not ours to make unity-safe.
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99 UNITY_BUILD OFF)
target_compile_options(llhttp PRIVATE -w ${TORII_OPT_FLAGS} -O2)
