// application/x-www-form-urlencoded bodies (gateway/form.cpp), as the aggregator POSTs them to
// /callbacks/ussd, /callbacks/sms and /callbacks/dlr, and the percent-decoding under them.
// Properties: form_encode (the provider client's encoder) and the parser agree both ways.

#include "check.hpp"
#include "gateway/form.hpp"
#include "sms/africastalking_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using cp2::gateway::parse_form;
using cp2::gateway::percent_decode;
using cp2::sms::form_encode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  if (const auto fields = parse_form(body)) {
    // Written out again as a provider client writes a body, the fields read back the same.
    std::string again;
    for (const auto& [name, value] : *fields) {
      CP2_FUZZ_CHECK(!name.empty());
      if (!again.empty()) again += '&';
      again += form_encode(name) + "=" + form_encode(value);
    }
    const auto reparsed = parse_form(again);
    CP2_FUZZ_CHECK(reparsed && *reparsed == *fields);
  }

  for (const bool plus_is_space : {false, true}) {
    if (const auto decoded = percent_decode(body, plus_is_space)) {
      CP2_FUZZ_CHECK(decoded->size() <= body.size());
    }
    // Any bytes survive encoding then decoding, under form rules and RFC 3986 rules alike.
    CP2_FUZZ_CHECK(percent_decode(form_encode(body), plus_is_space) == std::string(body));
  }
  // Without escapes nothing can be malformed, and without '+' nothing changes.
  if (body.find('%') == std::string_view::npos) {
    const auto decoded = percent_decode(body, false);
    CP2_FUZZ_CHECK(decoded && *decoded == body);
  }
  return 0;
}
