// Line numbers of the fields of one object, keyed by field path
// ("spec.http[0].route[1].destination.host"), as the loader saw them. Lets a
// check that runs on typed objects (validate.h) still point at the line to fix.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace torii::config {

using FieldLines = std::map<std::string, int, std::less<>>;

// The line of `path`, else of its closest recorded parent ("a.b[2].c" ->
// "a.b[2]" -> "a.b" -> "a"), else `fallback`.
int line_of(const FieldLines& lines, std::string_view path, int fallback);

}  // namespace torii::config
