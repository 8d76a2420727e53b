// Writing a small file that a reader polls for (--admin-address-path): the
// reader sees no file or the whole file, never a part of it.
#pragma once

#include <string>

namespace torii::cli {

// Writes `content` to a temporary file beside `path`, then renames it over
// `path`. On failure returns false with `error` naming the path.
bool write_file_atomically(const std::string& path, const std::string& content, std::string& error);

}  // namespace torii::cli
