#pragma once
// application/x-www-form-urlencoded bodies, as the aggregator POSTs them.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cp2::gateway {

/// The fields of a form body. A repeated name keeps its first value.
using form_fields = std::map<std::string, std::string>;

/// Decodes `body` ("a=1&b=two+words&c=%2B254"): '+' is a space, %XX a byte. Returns nullopt
/// for a malformed escape or a field without '='. Empty pieces ("a=1&&b=2") are skipped.
std::optional<form_fields> parse_form(std::string_view body);

/// Decodes one percent-encoded component; `plus_is_space` for form bodies and queries.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

}  // namespace cp2::gateway
