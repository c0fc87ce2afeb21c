#include "gateway/http_types.hpp"

#include "gateway/json_text.hpp"

namespace cp2::gateway {

std::string http_request::query_value(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

http_response text_response(int status, std::string text) {
  http_response r;
  r.status = status;
  r.body = std::move(text);
  r.body += '\n';
  return r;
}

http_response json_error(int status, const std::string& message) {
  http_response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = "{\"error\":" + json_quote(message) + "}";
  return r;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Walk the longer string in full so the time does not reveal where they first differ.
  std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace cp2::gateway
