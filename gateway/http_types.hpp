#pragma once
// What a route handler sees of a request and gives back. Deliberately free of Beast so that
// only gateway/http_server.cpp pays for Beast's headers.

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cp2::gateway {

/// One HTTP request as the router hands it to a handler.
struct http_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< as sent, path and query
  std::string path;    ///< percent-decoded path, without the query
  std::multimap<std::string, std::string> query;           ///< decoded query parameters
  std::map<std::string, std::string> path_params;          ///< {name} segments of the route
  std::string content_type;                                ///< media type, lower case, no parameters
  std::string authorization;
  std::string accept;
  std::string body;
  std::string remote_address;  ///< the peer's IP address in text
  std::string request_id;      ///< also on every log line about this request

  /// The first query parameter called `name`, or "" when absent.
  std::string query_value(const std::string& name) const;
};

/// The answer to one request.
struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  /// When set, the body is sent in chunks as this returns them (empty: the end), instead of
  /// `body`: for exports too large to hold in memory.
  std::function<boost::asio::awaitable<std::string>()> stream;
};

/// A plain-text response: `status` with `text` and a newline.
http_response text_response(int status, std::string text);

/// A JSON error response {"error": message}.
http_response json_error(int status, const std::string& message);

/// Compares two secrets in time that depends only on their lengths, not their contents.
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace cp2::gateway
