// Splitting a multi-document YAML text the way kubectl does
// (k8s.io/apimachinery YAMLReader): a line that starts with "---" followed only
// by blanks or a comment separates documents. Each document is then parsed on
// its own, so a syntax error names its line and costs only what follows it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace torii::config {

struct DocumentText {
  std::string text;
  int first_line = 0;  // 0-based line of the file at which `text` starts
};

std::vector<DocumentText> split_documents(std::string_view text);

}  // namespace torii::config
