#include "gateway/json_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>

namespace cp2::gateway {

namespace json = boost::json;

http_response json_response(int status, const json::value& v) {
  http_response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json::serialize(v);
  return r;
}

std::optional<http_response> read_object(const std::string& body, json::object& out) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return json_error(400, "the body must be a JSON object");
  out = std::move(v.as_object());
  return std::nullopt;
}

std::optional<http_response> read_string(const json::object& o, const char* name, std::string& out) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return json_error(422, std::string(name) + ": required, a string");
  out = std::string(v->as_string());
  return std::nullopt;
}

std::optional<http_response> read_limit(const http_request& req, int& limit) {
  auto text = req.query_value("limit");
  if (text.empty()) return std::nullopt;
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p != text.data() + text.size() || n < 1 || n > 1000)
    return json_error(400, "limit: a whole number from 1 to 1000");
  limit = n;
  return std::nullopt;
}

std::string iso8601_eat(std::int64_t t) {
  using namespace std::chrono;
  auto tp = sys_time<milliseconds>(milliseconds(t + 3 * 3'600'000));
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<seconds>(tp - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+03:00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

http_response api_internal_error(const http_request& req) {
  return json_error(500, "internal error, request " + req.request_id);
}

}  // namespace cp2::gateway
