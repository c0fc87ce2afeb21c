#pragma once
// Test clients: libcurl for ordinary requests, raw sockets for misbehaving ones. Loopback only.

#include <map>
#include <string>
#include <vector>

namespace cp2::test {

/// What came back from one request.
struct http_reply {
  long status = 0;  ///< 0 when the request failed at the transport level
  std::string body;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string error;                            ///< curl's message when status == 0
};

/// Sends one request to http://127.0.0.1:<port><target>.
http_reply request(const std::string& method, unsigned short port, const std::string& target,
                   const std::string& body = "",
                   const std::vector<std::string>& headers = {}, long timeout_ms = 5000);

/// A form POST (application/x-www-form-urlencoded).
http_reply post_form(unsigned short port, const std::string& target, const std::string& body);

/// Percent-encodes a form value.
std::string form_escape(const std::string& value);

/// A raw TCP connection to 127.0.0.1:port for tests of the HTTP edge itself.
class raw_connection {
public:
  explicit raw_connection(unsigned short port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// True when the connection was established.
  bool connected() const { return fd_ >= 0; }
  /// Sends all of `bytes`; false when the peer has closed.
  bool send(const std::string& bytes);
  /// Reads until `n_responses` complete HTTP responses arrived, the peer closed, or
  /// `timeout_ms` passed; returns everything read.
  std::string read_responses(int n_responses, int timeout_ms = 3000);
  /// True when the peer closes the connection within `timeout_ms`.
  bool closed_by_peer_within(int timeout_ms);

private:
  int fd_ = -1;
};

}  // namespace cp2::test
