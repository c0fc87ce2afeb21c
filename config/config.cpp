#include "config/config.hpp"

#include "config/cidr.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

extern char** environ;

namespace cp2::config {
namespace {

// A key of the schema: how to read it from TOML and from an environment string. Each setter
// returns an error message (without the key) or an empty string.
struct key_spec {
  std::string section;
  std::string name;
  std::function<std::string(const toml::node&, config&)> from_toml;
  std::function<std::string(const std::string&, config&)> from_env;
};

using string_ref = std::function<std::string&(config&)>;
using int_ref = std::function<int&(config&)>;
using duration_ref = std::function<std::chrono::milliseconds&(config&)>;
using list_ref = std::function<std::vector<std::string>&(config&)>;

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

key_spec string_key(std::string section, std::string name, string_ref ref) {
  return {section, name,
          [ref](const toml::node& n, config& c) -> std::string {
            auto v = n.value<std::string>();
            if (!n.is_string() || !v) return "expected a string";
            ref(c) = *v;
            return {};
          },
          [ref](const std::string& v, config& c) -> std::string {
            ref(c) = v;
            return {};
          }};
}

std::string parse_int(const std::string& text, int min, int max, int& out) {
  auto t = trim(text);
  int v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size() || t.empty())
    return fmt::format("expected a whole number, got \"{}\"", t);
  if (v < min || v > max) return fmt::format("{} is out of range ({}-{})", v, min, max);
  out = v;
  return {};
}

key_spec int_key(std::string section, std::string name, int_ref ref, int min, int max) {
  return {section, name,
          [ref, min, max](const toml::node& n, config& c) -> std::string {
            if (!n.is_integer()) return "expected a whole number";
            auto v = *n.value<std::int64_t>();
            if (v < min || v > max) return fmt::format("{} is out of range ({}-{})", v, min, max);
            ref(c) = static_cast<int>(v);
            return {};
          },
          [ref, min, max](const std::string& v, config& c) -> std::string {
            return parse_int(v, min, max, ref(c));
          }};
}

key_spec duration_key(std::string section, std::string name, duration_ref ref) {
  auto set = [ref](const std::string& text, config& c) -> std::string {
    try {
      auto d = parse_duration(text);
      if (d.count() <= 0) return "must be more than zero";
      ref(c) = d;
      return {};
    } catch (const config_error& e) {
      return e.what();
    }
  };
  return {section, name,
          [set](const toml::node& n, config& c) -> std::string {
            if (n.is_integer()) return set(std::to_string(*n.value<std::int64_t>()), c);
            if (n.is_string()) return set(*n.value<std::string>(), c);
            return "expected a duration such as \"10s\", \"15m\" or \"24h\"";
          },
          set};
}

key_spec list_key(std::string section, std::string name, list_ref ref) {
  return {section, name,
          [ref](const toml::node& n, config& c) -> std::string {
            const auto* arr = n.as_array();
            if (!arr) return "expected a list of strings";
            std::vector<std::string> out;
            for (const auto& item : *arr) {
              auto v = item.value<std::string>();
              if (!item.is_string() || !v) return "expected a list of strings";
              out.push_back(*v);
            }
            ref(c) = std::move(out);
            return {};
          },
          [ref](const std::string& v, config& c) -> std::string {
            std::vector<std::string> out;
            std::stringstream in(v);
            std::string item;
            while (std::getline(in, item, ',')) {
              item = trim(item);
              if (!item.empty()) out.push_back(item);
            }
            ref(c) = std::move(out);
            return {};
          }};
}

const std::vector<key_spec>& schema() {
  static const std::vector<key_spec> keys = {
      string_key("server", "listen", [](config& c) -> std::string& { return c.server.listen; }),
      list_key("server", "trusted_proxies",
               [](config& c) -> std::vector<std::string>& { return c.server.trusted_proxies; }),
      int_key("server", "threads", [](config& c) -> int& { return c.server.threads; }, 1, 256),
      int_key("server", "max_connections",
              [](config& c) -> int& { return c.server.max_connections; }, 1, 1'000'000),
      duration_key("server", "header_timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.server.header_timeout; }),
      duration_key("server", "body_timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.server.body_timeout; }),
      duration_key("server", "idle_timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.server.idle_timeout; }),
      duration_key("server", "shutdown_grace",
                   [](config& c) -> std::chrono::milliseconds& { return c.server.shutdown_grace; }),
      string_key("db", "path", [](config& c) -> std::string& { return c.db.path; }),
      duration_key("db", "busy_timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.db.busy_timeout; }),
      string_key("sms", "shortcode", [](config& c) -> std::string& { return c.sms.shortcode; }),
      duration_key("sms", "max_age",
                   [](config& c) -> std::chrono::milliseconds& { return c.sms.max_age; }),
      int_key("sms", "max_in_flight", [](config& c) -> int& { return c.sms.max_in_flight; }, 1, 10'000),
      int_key("sms", "per_second", [](config& c) -> int& { return c.sms.per_second; }, 1, 100'000),
      duration_key("sms", "retry_base",
                   [](config& c) -> std::chrono::milliseconds& { return c.sms.retry_base; }),
      duration_key("sms", "retry_cap",
                   [](config& c) -> std::chrono::milliseconds& { return c.sms.retry_cap; }),
      string_key("provider", "kind", [](config& c) -> std::string& { return c.provider.kind; }),
      string_key("provider", "base_url",
                 [](config& c) -> std::string& { return c.provider.base_url; }),
      string_key("provider", "username",
                 [](config& c) -> std::string& { return c.provider.username; }),
      string_key("provider", "api_key", [](config& c) -> std::string& { return c.provider.api_key; }),
      string_key("provider", "api_key_file",
                 [](config& c) -> std::string& { return c.provider.api_key_file; }),
      duration_key("provider", "connect_timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.provider.connect_timeout; }),
      duration_key("provider", "timeout",
                   [](config& c) -> std::chrono::milliseconds& { return c.provider.timeout; }),
      string_key("provider", "log_file", [](config& c) -> std::string& { return c.provider.log_file; }),
      string_key("callbacks", "secret", [](config& c) -> std::string& { return c.callbacks.secret; }),
      string_key("callbacks", "secret_file",
                 [](config& c) -> std::string& { return c.callbacks.secret_file; }),
      list_key("callbacks", "allow_from",
               [](config& c) -> std::vector<std::string>& { return c.callbacks.allow_from; }),
      string_key("admin", "token", [](config& c) -> std::string& { return c.admin.token; }),
      string_key("admin", "token_file", [](config& c) -> std::string& { return c.admin.token_file; }),
      list_key("ussd", "service_codes",
               [](config& c) -> std::vector<std::string>& { return c.ussd.service_codes; }),
      int_key("ussd", "max_in_flight", [](config& c) -> int& { return c.ussd.max_in_flight; }, 1,
              1'000'000),
      duration_key("ussd", "answer_within",
                   [](config& c) -> std::chrono::milliseconds& { return c.ussd.answer_within; }),
      int_key("limits", "password_resets_per_hour",
              [](config& c) -> int& { return c.limits.password_resets_per_hour; }, 1, 1000),
      int_key("limits", "login_max_failures",
              [](config& c) -> int& { return c.limits.login_max_failures; }, 1, 1000),
      int_key("limits", "credential_sms_per_day",
              [](config& c) -> int& { return c.limits.credential_sms_per_day; }, 1, 1000),
      int_key("limits", "credential_sms_per_minute",
              [](config& c) -> int& { return c.limits.credential_sms_per_minute; }, 1, 100'000),
      int_key("limits", "ussd_requests_per_minute",
              [](config& c) -> int& { return c.limits.ussd_requests_per_minute; }, 1, 10'000),
      int_key("limits", "login_failures_per_client",
              [](config& c) -> int& { return c.limits.login_failures_per_client; }, 1, 100'000),
      duration_key("limits", "login_lock",
                   [](config& c) -> std::chrono::milliseconds& { return c.limits.login_lock; }),
      string_key("log", "level", [](config& c) -> std::string& { return c.log.level; }),
      string_key("log", "format", [](config& c) -> std::string& { return c.log.format; }),
  };
  return keys;
}

std::string env_name(const key_spec& k) {
  std::string n = "CP2_" + k.section + "_" + k.name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return n;
}

// config_error promises one line: a control character in a quoted value ("1\n2") or in toml++'s
// description ("saw 't\n'") is written as an escape.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if ((c < 0x20 && c != '\t') || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += ch;
  }
  return out;
}

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw config_error(one_line(fmt::format("{}: {}", key, problem)));
}

void apply_toml(const std::string& text, config& c) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw config_error(fmt::format("line {}, column {}: {}", where.line, where.column,
                                   one_line(e.description())));
  }
  for (const auto& [section_key, section_node] : root) {
    std::string section(section_key.str());
    const auto* table = section_node.as_table();
    bool known_section = std::any_of(schema().begin(), schema().end(),
                                     [&](const key_spec& k) { return k.section == section; });
    if (!known_section) fail(section, "unknown section");
    if (!table) fail(section, "expected a [section] table");
    for (const auto& [name_key, node] : *table) {
      std::string name(name_key.str());
      auto it = std::find_if(schema().begin(), schema().end(), [&](const key_spec& k) {
        return k.section == section && k.name == name;
      });
      if (it == schema().end()) fail(section + "." + name, "unknown key");
      if (auto err = it->from_toml(node, c); !err.empty()) fail(section + "." + name, err);
    }
  }
}

void apply_environment(const std::vector<std::string>& environment, config& c) {
  for (const auto& entry : environment) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || entry.rfind("CP2_", 0) != 0) continue;
    std::string name = entry.substr(0, eq);
    std::string value = entry.substr(eq + 1);
    auto it = std::find_if(schema().begin(), schema().end(),
                           [&](const key_spec& k) { return env_name(k) == name; });
    if (it == schema().end()) {
      // Only names under a known section are ours to refuse; CP2_BUILD_DIR and the like
      // belong to the scripts.
      bool ours = std::any_of(schema().begin(), schema().end(), [&](const key_spec& k) {
        auto prefix = env_name(k).substr(0, 4 + k.section.size() + 1);
        return name.rfind(prefix, 0) == 0;
      });
      if (ours) fail(name, "unknown setting");
      continue;
    }
    if (auto err = it->from_env(value, c); !err.empty())
      fail(fmt::format("{} ({})", it->section + "." + it->name, name), err);
  }
}

void validate(config& c) {
  // listen: host:port, [v6]:port
  const auto& l = c.server.listen;
  auto colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail("server.listen", fmt::format("expected host:port, got \"{}\"", l));
  std::string host = l.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  if (auto err = parse_int(l.substr(colon + 1), 0, 65535, port); !err.empty())
    fail("server.listen", "port " + err);
  c.server.host = host;
  c.server.port = static_cast<std::uint16_t>(port);
  // 0 is only ever the built-in "not set"; the schema refuses it from the file or environment.
  if (c.server.threads == 0) c.server.threads = std::max(1u, std::thread::hardware_concurrency());

  if (c.db.path.empty()) fail("db.path", "must not be empty");
  if (c.sms.shortcode.empty() ||
      !std::all_of(c.sms.shortcode.begin(), c.sms.shortcode.end(),
                   [](unsigned char ch) { return std::isdigit(ch) != 0; }))
    fail("sms.shortcode", fmt::format("expected digits, got \"{}\"", c.sms.shortcode));

  if (c.provider.kind != "log" && c.provider.kind != "africastalking")
    fail("provider.kind", fmt::format("expected \"log\" or \"africastalking\", got \"{}\"",
                                      c.provider.kind));
  if (c.provider.kind == "africastalking") {
    if (c.provider.username.empty()) fail("provider.username", "required for africastalking");
    if (c.provider.api_key.empty()) fail("provider.api_key", "required for africastalking");
    for (char ch : c.provider.api_key + c.provider.username)
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
        fail("provider.api_key", "contains a control character");
    const auto& u = c.provider.base_url;
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      fail("provider.base_url", "expected an http:// or https:// URL");
  }
  for (const auto& cidr : c.server.trusted_proxies)
    if (!parse_cidr(cidr)) fail("server.trusted_proxies", fmt::format("not a CIDR: \"{}\"", cidr));
  for (const auto& cidr : c.callbacks.allow_from)
    if (!parse_cidr(cidr)) fail("callbacks.allow_from", fmt::format("not a CIDR: \"{}\"", cidr));
  for (const auto& code : c.ussd.service_codes)
    if (code.empty()) fail("ussd.service_codes", "empty service code");
  if (c.log.format != "json" && c.log.format != "text")
    fail("log.format", fmt::format("expected \"json\" or \"text\", got \"{}\"", c.log.format));
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  if (std::find(levels.begin(), levels.end(), c.log.level) == levels.end())
    fail("log.level", fmt::format("expected one of trace, debug, info, warn, error; got \"{}\"",
                                  c.log.level));
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text) {
  auto t = trim(text);
  std::size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits == 0 || digits > 12)
    throw config_error(fmt::format("expected a duration such as \"10s\", got \"{}\"", t));
  long long n = std::stoll(t.substr(0, digits));
  auto unit = t.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s" || unit.empty()) return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  throw config_error(fmt::format("unknown duration unit \"{}\" (use ms, s, m or h)", unit));
}

std::vector<std::string> known_keys() {
  std::vector<std::string> out;
  for (const auto& k : schema()) out.push_back(k.section + "." + k.name);
  return out;
}

namespace {

// A secret given as a file: its first line, without the line end. Setting both the value and
// the file is refused, so nobody wonders which one is used.
void read_secret_file(const std::string& key, const std::string& file, std::string& value) {
  if (file.empty()) return;
  if (!value.empty()) fail(key + "_file", fmt::format("{} is set too; set one of them", key));
  std::ifstream in(file);
  if (!in) fail(key + "_file", fmt::format("cannot read \"{}\"", file));
  std::getline(in, value);
  while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
  if (value.empty()) fail(key + "_file", fmt::format("\"{}\" is empty", file));
}

}  // namespace

config load_from_text(const std::string& toml_text, const std::vector<std::string>& environment) {
  config c;
  apply_toml(toml_text, c);
  apply_environment(environment, c);
  read_secret_file("provider.api_key", c.provider.api_key_file, c.provider.api_key);
  read_secret_file("admin.token", c.admin.token_file, c.admin.token);
  read_secret_file("callbacks.secret", c.callbacks.secret_file, c.callbacks.secret);
  validate(c);
  return c;
}

config load(const std::string& path) {
  std::string text;
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(fmt::format("{}: cannot read the configuration file", path));
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  config c;
  try {
    c = load_from_text(text, env);
  } catch (const config_error& e) {
    if (path.empty()) throw;
    throw config_error(fmt::format("{}: {}", path, e.what()));
  }
  if (c.db.path != ":memory:") {
    auto folder = std::filesystem::path(c.db.path).parent_path();
    std::error_code ec;
    if (!folder.empty()) std::filesystem::create_directories(folder, ec);
    if (ec)
      fail("db.path", fmt::format("cannot create the folder \"{}\": {}", folder.string(),
                                  ec.message()));
  }
  return c;
}

}  // namespace cp2::config
