# Writes OUTPUT: a C++ source defining `extern const std::string_view NAME`
# (namespace torii::admin) holding INPUT's bytes as a raw string literal, so a
# web page ships inside the binary and is edited as the plain file it is.
# Run at build time (add_custom_command), rewritten only when it changes.
#   cmake -DINPUT=page.html -DOUTPUT=page.cc -DNAME=kPage -P embed.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")torii_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )torii_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed.cmake; edit that file instead.\n"
  "#include <string_view>\n\nnamespace torii::admin {\n\n"
  "extern const std::string_view ${NAME};\n"
  "const std::string_view ${NAME} = R\"torii_embed(${content})torii_embed\";\n\n"
  "}  // namespace torii::admin\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
