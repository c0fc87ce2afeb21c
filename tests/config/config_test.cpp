#include "config/config.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

using cp2::config::config_error;
using cp2::config::load_from_text;

namespace {

// The message of the config_error that loading throws, or "" when it loads.
std::string load_error(const std::string& toml, const std::vector<std::string>& env = {}) {
  try {
    load_from_text(toml, env);
    return "";
  } catch (const config_error& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("defaults follow SPEC section 2") {
  auto c = load_from_text("", {});
  CHECK(c.server.host == "127.0.0.1");
  CHECK(c.server.port == 8080);
  CHECK(c.server.threads >= 1);
  CHECK(c.db.path == "data/cp2.db");
  CHECK(c.sms.shortcode == "22262");
  CHECK(c.provider.kind == "log");
  CHECK(c.provider.base_url == "https://api.africastalking.com");
  CHECK(c.callbacks.secret.empty());
  CHECK(c.callbacks.allow_from.empty());
  CHECK(c.admin.token.empty());
  CHECK(c.sms.max_age == std::chrono::hours(24));
  CHECK(c.limits.password_resets_per_hour == 3);
  CHECK(c.limits.login_max_failures == 5);
  CHECK(c.limits.login_lock == std::chrono::minutes(15));
}

TEST_CASE("the shipped example file loads and matches the defaults it documents") {
  std::ifstream in(std::string(CP2_SOURCE_DIR) + "/config/cp2-gateway.toml");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto c = load_from_text(text.str(), {});
  CHECK(c.server.listen == "127.0.0.1:8080");
  CHECK(c.provider.kind == "log");
  CHECK(c.db.path == "data/cp2.db");
}

TEST_CASE("file values are read") {
  auto c = load_from_text(R"(
[server]
listen = "0.0.0.0:0"
threads = 3
header_timeout = "250ms"
[callbacks]
allow_from = ["196.201.214.0/24", "::1"]
[ussd]
service_codes = ["*384*22262#"]
)",
                          {});
  CHECK(c.server.host == "0.0.0.0");
  CHECK(c.server.port == 0);
  CHECK(c.server.threads == 3);
  CHECK(c.server.header_timeout == std::chrono::milliseconds(250));
  CHECK(c.callbacks.allow_from.size() == 2);
  CHECK(c.ussd.service_codes == std::vector<std::string>{"*384*22262#"});
}

TEST_CASE("the environment overrides the file") {
  auto c = load_from_text("[server]\nlisten = \"127.0.0.1:9000\"\n[admin]\ntoken = \"file\"\n",
                          {"CP2_SERVER_LISTEN=127.0.0.1:9100", "CP2_ADMIN_TOKEN=env",
                           "CP2_CALLBACKS_ALLOW_FROM=196.201.214.0/24, 127.0.0.1/32",
                           "CP2_SERVER_SHUTDOWN_GRACE=3s", "CP2_LIMITS_LOGIN_MAX_FAILURES=7",
                           "CP2_BUILD_DIR=ignored: not one of our sections", "PATH=/usr/bin"});
  CHECK(c.server.port == 9100);
  CHECK(c.admin.token == "env");
  CHECK(c.callbacks.allow_from ==
        std::vector<std::string>{"196.201.214.0/24", "127.0.0.1/32"});
  CHECK(c.server.shutdown_grace == std::chrono::seconds(3));
  CHECK(c.limits.login_max_failures == 7);
}

TEST_CASE("bad configuration stops the start with one line naming the key") {
  struct row {
    std::string toml;
    std::vector<std::string> env;
    std::string starts_with;
  };
  const row rows[] = {
      {"[server]\nlisten = \"127.0.0.1:70000\"\n", {}, "server.listen: port 70000 is out of range"},
      {"[server]\nlisten = \"nohostport\"\n", {}, "server.listen: expected host:port"},
      {"[server]\nthreads = -1\n", {}, "server.threads: -1 is out of range"},
      {"[server]\nthreads = 0\n", {}, "server.threads: 0 is out of range (1-256)"},
      {"[server]\nthreads = \"two\"\n", {}, "server.threads: expected a whole number"},
      {"[server]\nlisten = 8080\n", {}, "server.listen: expected a string"},
      {"[server]\nlistn = \"x\"\n", {}, "server.listn: unknown key"},
      {"[sever]\nlisten = \"x\"\n", {}, "sever: unknown section"},
      {"[server]\nheader_timeout = \"10 parsecs\"\n", {}, "server.header_timeout: unknown duration unit"},
      {"[server]\nheader_timeout = \"0s\"\n", {}, "server.header_timeout: must be more than zero"},
      {"[provider]\nkind = \"twilio\"\n", {}, "provider.kind: expected \"log\" or \"africastalking\""},
      {"[provider]\nkind = \"africastalking\"\n", {}, "provider.username: required"},
      {"[provider]\nkind = \"africastalking\"\nusername = \"u\"\n", {}, "provider.api_key: required"},
      {"[callbacks]\nallow_from = [\"10.0.0.0/33\"]\n", {}, "callbacks.allow_from: not a CIDR"},
      {"[callbacks]\nallow_from = \"10.0.0.0/8\"\n", {}, "callbacks.allow_from: expected a list"},
      {"[sms]\nshortcode = \"22a62\"\n", {}, "sms.shortcode: expected digits"},
      {"[log]\nlevel = \"loud\"\n", {}, "log.level: expected one of"},
      {"[db]\npath = \"\"\n", {}, "db.path: must not be empty"},
      {"", {"CP2_SERVER_THREADS=0x2"}, "server.threads (CP2_SERVER_THREADS): expected a whole number"},
      {"", {"CP2_SERVER_LISTN=1"}, "CP2_SERVER_LISTN: unknown setting"},
      {"[server\n", {}, "line 1"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.toml);
    auto err = load_error(r.toml, r.env);
    CHECK_MESSAGE(err.rfind(r.starts_with, 0) == 0, err);
    CHECK(err.find('\n') == std::string::npos);
  }
}

TEST_CASE("secrets are not echoed in errors") {
  auto err = load_error("[provider]\nkind = \"africastalking\"\napi_key = \"s3cr3t-key\"\n");
  CHECK(err.find("s3cr3t-key") == std::string::npos);
  CHECK(!err.empty());
}

TEST_CASE("durations") {
  using cp2::config::parse_duration;
  CHECK(parse_duration("250ms") == std::chrono::milliseconds(250));
  CHECK(parse_duration("10") == std::chrono::seconds(10));
  CHECK(parse_duration("15m") == std::chrono::minutes(15));
  CHECK(parse_duration("24h") == std::chrono::hours(24));
  CHECK_THROWS_AS(parse_duration("h"), config_error);
  CHECK_THROWS_AS(parse_duration("-5s"), config_error);
}

TEST_CASE("load creates the database folder and refuses one it cannot create") {
  namespace fs = std::filesystem;
  auto base = fs::temp_directory_path() / ("cp2-config-test-" + std::to_string(::getpid()));
  fs::remove_all(base);
  auto file = base / "gw.toml";
  fs::create_directories(base);
  {
    std::ofstream out(file);
    out << "[db]\npath = \"" << (base / "nested" / "cp2.db").string() << "\"\n";
  }
  auto c = cp2::config::load(file.string());
  CHECK(fs::is_directory(base / "nested"));

  // A regular file where a folder must be: the folder cannot be created.
  {
    std::ofstream blocker(base / "blocker");
    blocker << "x";
    std::ofstream out(file);
    out << "[db]\npath = \"" << (base / "blocker" / "sub" / "cp2.db").string() << "\"\n";
  }
  std::string err;
  try {
    cp2::config::load(file.string());
  } catch (const config_error& e) {
    err = e.what();
  }
  CHECK(err.rfind("db.path: cannot create the folder", 0) == 0);
  CHECK_THROWS_AS(cp2::config::load((base / "missing.toml").string()), config_error);
  fs::remove_all(base);
}

TEST_CASE("secrets can come from files; both a value and a file is refused") {
  namespace fs = std::filesystem;
  auto base = fs::temp_directory_path() / ("cp2-secret-test-" + std::to_string(::getpid()));
  fs::create_directories(base);
  {
    std::ofstream(base / "key") << "from-file-key\n";
    std::ofstream(base / "token") << "from-file-token\r\n";
    std::ofstream(base / "empty") << "";
  }
  auto c = load_from_text("", {"CP2_PROVIDER_API_KEY_FILE=" + (base / "key").string(),
                               "CP2_ADMIN_TOKEN_FILE=" + (base / "token").string()});
  CHECK(c.provider.api_key == "from-file-key");
  CHECK(c.admin.token == "from-file-token");
  CHECK(load_error("", {"CP2_ADMIN_TOKEN=x", "CP2_ADMIN_TOKEN_FILE=" + (base / "token").string()})
            .rfind("admin.token_file: admin.token is set too", 0) == 0);
  CHECK(load_error("", {"CP2_CALLBACKS_SECRET_FILE=" + (base / "missing").string()})
            .rfind("callbacks.secret_file: cannot read", 0) == 0);
  CHECK(load_error("", {"CP2_CALLBACKS_SECRET_FILE=" + (base / "empty").string()})
            .rfind("callbacks.secret_file:", 0) == 0);
  fs::remove_all(base);
}

TEST_CASE("malformed TOML that toml++ 3.3.0 trips over is a parse error, not an abort") {
  // Found by fuzz/config_fuzz with toml++ compiled in: without NDEBUG it asserts on a bad table
  // header (marzer/tomlplusplus pull 301), and a non-ASCII character after a value reaches its
  // "unreachable" (issue 295). The library we link must report both as errors naming the line.
  for (const char* toml : {"server = 1\n[%og]\nlevel = \"debug\"\n", "[[[1]]]\n", "[[=\n",
                           "[server]\nthreads = 25\xd0\x92\n", "[sms]\nper_second = 5\xc2\xa1\n"}) {
    CAPTURE(toml);
    CHECK(load_error(toml).rfind("line ", 0) == 0);
  }
}

TEST_CASE("errors stay on one line whatever the file or value holds") {
  // Found by fuzz/config_fuzz: toml++ quotes the character it saw, line end included, and
  // values are quoted as given.
  CHECK(load_error("[server]\nthreads = t\n").rfind("line 2, column ", 0) == 0);
  CHECK(load_error("[server]\nthreads = t\n").find('\n') == std::string::npos);
  CHECK(load_error("[sms]\nshortcode = \"1\\n2\\r\\u0007\"\n") ==
        "sms.shortcode: expected digits, got \"1\\n2\\r\\x07\"");
  CHECK(load_error("", {"CP2_LOG_LEVEL=info\r"}) ==
        "log.level: expected one of trace, debug, info, warn, error; got \"info\\r\"");
}
