#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace torii::admin {
namespace {

std::string get(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return "";
  send(fd, request.data(), request.size(), 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(AdminServerTest, ServesHandlerResponsesWithPathAndQuery) {
  AdminServer server("127.0.0.1", 0, [](const AdminRequest& r) {
    return AdminResponse{r.path == "/ready" ? 200 : 404, "text/plain",
                         r.method + " " + r.path + " " + r.query};
  });
  std::string error;
  ASSERT_TRUE(server.start(error)) << error;
  ASSERT_NE(server.port(), 0);

  std::string ok = get(server.port(), "GET /ready?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("GET /ready x=1"), std::string::npos);

  std::string missing = get(server.port(), "GET /nope HTTP/1.1\r\n\r\n");
  EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u);

  std::string bad = get(server.port(), "garbage\r\n\r\n");
  EXPECT_EQ(bad.rfind("HTTP/1.1 400", 0), 0u);
  server.stop();
}

TEST(AdminServerTest, RefusesAddressThatIsNotAnIp) {
  AdminServer server("localhost", 0, [](const AdminRequest&) { return AdminResponse{}; });
  std::string error;
  EXPECT_FALSE(server.start(error));
  EXPECT_NE(error.find("not an IP"), std::string::npos);
}

TEST(QueryParamTest, DecodesFirstOccurrence) {
  EXPECT_EQ(query_param("a=1&b=x%20y+z&b=2", "b"), "x y z");
  EXPECT_EQ(query_param("flag&a=1", "flag"), "");
  EXPECT_EQ(query_param("a=1", "missing"), "");
}

}  // namespace
}  // namespace torii::admin
