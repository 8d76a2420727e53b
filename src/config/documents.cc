#include "config/documents.h"

namespace torii::config {
namespace {

bool is_separator(std::string_view line) {
  if (!line.starts_with("---")) return false;
  line.remove_prefix(3);
  const size_t first = line.find_first_not_of(" \t\r");
  return first == std::string_view::npos || line[first] == '#';
}

}  // namespace

std::vector<DocumentText> split_documents(std::string_view text) {
  std::vector<DocumentText> documents;
  DocumentText current;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (is_separator(line)) {
      documents.push_back(std::move(current));
      current = DocumentText{"", line_number + 1};
    } else {
      current.text.append(line);
      current.text.push_back('\n');
    }
    ++line_number;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  documents.push_back(std::move(current));
  return documents;
}

}  // namespace torii::config
