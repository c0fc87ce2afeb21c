#pragma once
// The routing table: path patterns with {name} segments, one handler per method.

#include "gateway/http_types.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cp2::gateway {

/// Produces the response to one request. Runs on the connection's executor; anything slow
/// (SQLite, hashing, outbound HTTP) it hands to another executor and awaits.
using handler = std::function<boost::asio::awaitable<http_response>(http_request&)>;

/// Who may call a route; checked by the server before the body is read.
enum class guard {
  none,      ///< anyone
  callback,  ///< callbacks.allow_from and ?key=<callbacks.secret> (SPEC section 2)
  admin,     ///< Authorization: Bearer <admin.token>
};

/// How the server treats requests for one method of one pattern.
struct route_options {
  guard who = guard::none;
  std::vector<std::string> content_types;  ///< media types accepted; empty accepts any
  std::size_t body_limit = 0;  ///< largest body accepted; 0: the server's (16 KiB)
  /// Builds the answer when the handler throws; default: 500 with the request id.
  std::function<http_response(const http_request&)> on_error;
};

/// One method of one pattern.
struct route {
  std::string method;
  std::string pattern;
  handler handle;
  route_options options;
};

/// The table the server consults for every request.
/// Thread safety: fill it before the server starts; afterwards it is only read.
class router {
public:
  /// Adds `method` on `pattern` ("/api/v1/accounts/{phone}/password-reset").
  void add(std::string method, std::string pattern, handler h, route_options options = {});

  /// The outcome of looking up a path and method.
  struct match {
    const route* found = nullptr;  ///< null: see path_known
    bool path_known = false;       ///< the path exists with other methods (405)
    std::string allow;             ///< methods of that path, for the Allow header
    std::map<std::string, std::string> params;
  };

  /// Finds the route for `method` on `path`.
  match find(std::string_view method, std::string_view path) const;

private:
  static bool match_pattern(std::string_view pattern, std::string_view path,
                            std::map<std::string, std::string>& params);
  std::vector<route> routes_;
};

}  // namespace cp2::gateway
