// A throw-away PKI for TLS tests, made with the openssl command line: a CA,
// a server certificate (SAN DNS:api.example.test, DNS:*.wild.example.test,
// URI:spiffe://cluster.local/ns/default/sa/api), a client certificate, and a
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
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=DNS:api.example.test,DNS:*.wild.example.test,URI:"
                                           "spiffe://cluster.local/ns/default/sa/api\n";
    const std::string script =
        "cd " + dir_ +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out "
        "ca.pem -days 2 "
        "-subj /CN=test-ca 2>/dev/null"
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other-ca.key "
        "-out other-ca.pem "
        "-days 2 -subj /CN=other-ca 2>/dev/null"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
        "server.csr "
        "-subj /CN=api 2>/dev/null"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile server.ext 2>/dev/null"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out "
        "client.csr "
        "-subj /CN=client 2>/dev/null"
        " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2 2>/dev/null";
    ok_ = std::system(script.c_str()) == 0;
  }
  ~TestCerts() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace torii::net::testing
