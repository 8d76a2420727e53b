#include "admin/dashboard_page.h"

namespace torii::admin {

AdminResponse dashboard_page() { return {200, "text/html; charset=utf-8", std::string(kDashboardHtml)}; }

}  // namespace torii::admin
