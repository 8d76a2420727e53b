// A throw-away PKI for TLS tests, made with the openssl command line: a CA,
// a server certificate (SAN DNS:api.example.test, DNS:*.wild.example.test,
// URI:spiffe://cluster.local/ns/default/sa/api), a second server certificate
// (other.pem, SAN DNS:other.example.test), a client certificate, and a
// second CA that signed none of them.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace torii::net::testing {

class TestCerts {
 public:
  TestCerts() {
    char tmpl[] = "/tmp/torii-certs-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ok_ = self_signed("ca", "test-ca") && self_signed("other-ca", "other-ca") &&
          signed_by_ca(
              "server", "api",
              "DNS:api.example.test,DNS:*.wild.example.test,URI:spiffe://cluster.local/ns/default/sa/api") &&
          signed_by_ca("other", "other", "DNS:other.example.test") && signed_by_ca("client", "client", "");
  }
  ~TestCerts() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  static constexpr const char* kNewKey =
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";

  bool run(const std::string& command) const {
    return std::system(("cd " + dir_ + " && " + command + " 2>/dev/null >/dev/null").c_str()) == 0;
  }
  bool self_signed(const std::string& name, const std::string& cn) const {
    return run(std::string(kNewKey) + "-x509 -days 2 -keyout " + name + ".key -out " + name +
               ".pem -subj /CN=" + cn);
  }
  // <name>.pem and <name>.key, signed by ca.pem, with `sans` (may be empty).
  bool signed_by_ca(const std::string& name, const std::string& cn, const std::string& sans) const {
    std::ofstream(dir_ + "/" + name + ".ext") << (sans.empty() ? "" : "subjectAltName=" + sans + "\n");
    return run(std::string(kNewKey) + "-keyout " + name + ".key -out " + name + ".csr -subj /CN=" + cn) &&
           run("openssl x509 -req -in " + name +
               ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " + name + ".pem -extfile " +
               name + ".ext");
  }

  std::string dir_;
  bool ok_ = false;
};

}  // namespace torii::net::testing
