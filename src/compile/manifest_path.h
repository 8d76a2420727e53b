// A file a manifest names (certificates, CA bundles): an absolute path as
// written; a relative one from the directory of the manifest that names it,
// so a config directory can carry its own files.
#pragma once

#include <filesystem>
#include <string>

#include "config/resources.h"

namespace torii::compile {

inline std::string manifest_relative_path(const std::string& path, const config::SourceRef& source) {
  if (path.empty() || path.front() == '/' || source.file.empty()) return path;
  return (std::filesystem::path(source.file).parent_path() / path).string();
}

}  // namespace torii::compile
