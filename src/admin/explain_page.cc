#include "admin/explain_page.h"

#include "explain/explain.h"

namespace torii::admin {

AdminResponse explain_page(const ConfigState& state, const AdminRequest& request) {
  explain::Request req;
  std::string method = query_param(request.query, "method");
  if (!method.empty()) req.method = method;
  req.url = query_param(request.query, "url");
  // Every `header=` parameter, in order (query_param gives only the first).
  std::string_view query = request.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (param.starts_with("header=")) {
      std::pair<std::string, std::string> header;
      std::string text = url_decode(std::string(param.substr(7)));
      if (!explain::parse_header(text, header)) {
        return {400, "text/plain", "header=" + text + ": expected Name:value\n"};
      }
      req.headers.push_back(std::move(header));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  const bool text = query_param(request.query, "format") == "text";
  if (req.url.empty()) {
    return {400, "text/plain",
            "usage: /explain?method=GET&url=http://host/path&header=Name:value[&format=text]\n"};
  }
  if (!state.snapshot) return {503, "text/plain", "no configuration loaded yet\n"};
  nlohmann::json explanation = explain::explain(*state.snapshot, req);
  const int status = explanation.contains("error") ? 400 : 200;
  if (text) return {status, "text/plain", explain::to_text(explanation)};
  return {status, "application/json", explanation.dump(2) + "\n"};
}

}  // namespace torii::admin
