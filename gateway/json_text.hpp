#pragma once
// Small JSON string quoting for error bodies, so those files need not include Boost.JSON.

#include <string>
#include <string_view>

namespace cp2::gateway {

/// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace cp2::gateway
