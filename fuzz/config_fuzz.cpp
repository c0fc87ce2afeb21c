// The config loader (config/config.cpp): a TOML file and environment overrides. The input is
// the file up to the first NUL byte; after it, one NAME=VALUE environment entry per line.
// Properties: loading either gives settings that pass validation or throws config_error with a
// one-line message; nothing else escapes.
//
// The *_file keys make the loader read files: scripts/fuzz runs this target in an empty folder,
// so the paths it makes up find nothing.

#include "check.hpp"
#include "config/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace cp2::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const std::string toml(input.substr(0, nul));
  std::vector<std::string> environment;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      environment.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }

  try {
    const config c = load_from_text(toml, environment);
    CP2_FUZZ_CHECK(c.server.threads >= 1 && c.server.max_connections >= 1);
    CP2_FUZZ_CHECK(!c.sms.shortcode.empty() && !c.db.path.empty());
    CP2_FUZZ_CHECK(std::all_of(c.sms.shortcode.begin(), c.sms.shortcode.end(),
                               [](char ch) { return ch >= '0' && ch <= '9'; }));
    CP2_FUZZ_CHECK(c.provider.kind == "log" || c.provider.kind == "africastalking");
    for (const auto d : {c.server.header_timeout, c.server.body_timeout, c.server.idle_timeout,
                         c.server.shutdown_grace, c.db.busy_timeout, c.sms.max_age,
                         c.sms.retry_base, c.sms.retry_cap, c.provider.connect_timeout,
                         c.provider.timeout, c.limits.login_lock}) {
      CP2_FUZZ_CHECK(d.count() > 0);
    }
  } catch (const config_error& e) {
    // One line (config.hpp): a start-up failure must not spill into the next log line.
    const std::string_view message = e.what();
    CP2_FUZZ_CHECK(!message.empty() && message.find('\n') == std::string_view::npos);
  }
  return 0;
}
