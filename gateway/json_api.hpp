#pragma once
// JSON in and out for the /api/v1 routes (SPEC 6): bodies, fields and answers.

#include "gateway/http_types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace cp2::gateway {

/// `v` serialised with `status` and Content-Type application/json.
http_response json_response(int status, const boost::json::value& v);

/// The body as a JSON object; otherwise the 400 to answer.
std::optional<http_response> read_object(const std::string& body, boost::json::object& out);

/// A required string field; otherwise the 422 naming it.
std::optional<http_response> read_string(const boost::json::object& o, const char* name,
                                         std::string& out);

/// The `limit` query parameter of a list (1-1000) into `limit`, left as is when absent;
/// otherwise the 400 to answer.
std::optional<http_response> read_limit(const http_request& req, int& limit);

/// `t` (Unix ms) as ISO 8601 in East Africa Time, "2027-01-31T17:00:00+03:00": the zone the
/// CSV's times without an offset are read in (SPEC 7).
std::string iso8601_eat(std::int64_t t);

/// The 500 every API route answers when its handler fails.
http_response api_internal_error(const http_request& req);

}  // namespace cp2::gateway
