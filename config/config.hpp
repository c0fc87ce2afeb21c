#pragma once
// The gateway's settings: a TOML file, then CP2_<SECTION>_<KEY> environment overrides,
// then validation. Anything wrong stops the start with one line naming the key.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cp2::config {

/// A configuration problem; what() is one line that starts with the key, e.g.
/// "server.listen: port 70000 is out of range (0-65535)".
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// [server]: the HTTP edge.
struct server_config {
  std::string listen = "127.0.0.1:8080";  ///< host:port as written
  /// Reverse proxies whose X-Forwarded-For is believed (CIDRs); empty believes none.
  std::vector<std::string> trusted_proxies;
  std::string host = "127.0.0.1";         ///< parsed from listen
  std::uint16_t port = 8080;              ///< parsed from listen; 0 picks a free port
  int threads = 0;                        ///< I/O threads; unset (0) means the number of cores
  int max_connections = 1024;             ///< open connections beyond this get 503 and are closed
  std::chrono::milliseconds header_timeout{10'000};  ///< to receive a request's header
  std::chrono::milliseconds body_timeout{10'000};    ///< to receive a request's body
  std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive connection with no request
  std::chrono::milliseconds shutdown_grace{10'000};  ///< in-flight requests finish within this
};

/// [db]: the embedded SQLite database.
struct db_config {
  std::string path = "data/cp2.db";
  std::chrono::milliseconds busy_timeout{5'000};
};

/// [sms]: the shortcode and the outbox.
struct sms_config {
  std::string shortcode = "22262";
  std::chrono::milliseconds max_age{24 * 3'600'000};  ///< give up on a message after this
  int max_in_flight = 32;  ///< sends awaiting the provider's answer at once
  int per_second = 50;     ///< sends started per second (a backlog drains at this rate)
  std::chrono::milliseconds retry_base{2'000};  ///< first retry delay; doubles up to retry_cap
  std::chrono::milliseconds retry_cap{600'000};
};

/// [provider]: where outbound SMS go.
struct provider_config {
  std::string kind = "log";  ///< "log" or "africastalking"
  std::string base_url = "https://api.africastalking.com";
  std::string username;
  std::string api_key;  ///< secret: never logged
  std::string api_key_file;  ///< read api_key from this file instead (its first line)
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{15'000};  ///< a whole send, connection included
  std::string log_file;  ///< log provider only: every SMS in full, for demos; empty: none
};

/// [callbacks]: who may call /callbacks/*.
struct callbacks_config {
  std::string secret;                   ///< when set, ?key=<secret> is required; never logged
  std::string secret_file;              ///< read secret from this file instead
  std::vector<std::string> allow_from;  ///< CIDRs; empty allows any address
};

/// [admin]: the portal and operator API.
struct admin_config {
  std::string token;  ///< bearer token for /api/v1; empty disables the API (404)
  std::string token_file;  ///< read token from this file instead
};

/// [ussd]: the menus.
struct ussd_config {
  std::vector<std::string> service_codes;  ///< dialled codes served; empty serves any
  /// USSD requests worked on at once; beyond this a request gets the busy END at once.
  int max_in_flight = 64;
  /// A step whose change still waits for the database after this is dropped, whole, and
  /// answered with the busy END.
  std::chrono::milliseconds answer_within{2'000};
};

/// [limits]: abuse and lock-out limits.
struct limits_config {
  int password_resets_per_hour = 3;
  int login_max_failures = 5;
  std::chrono::milliseconds login_lock{15 * 60'000};
  int credential_sms_per_day = 10;      ///< per number: account creations and resets together
  int credential_sms_per_minute = 120;  ///< for the whole gateway (stops SMS pumping)
  int ussd_requests_per_minute = 60;    ///< per number
  int login_failures_per_client = 30;   ///< per client address in 15 minutes
};

/// [log]: what the service writes to standard error.
struct log_config {
  std::string level = "info";  ///< trace, debug, info, warn, error
  std::string format = "json";  ///< "json" (one JSON object per line) or "text"
};

/// Every setting of the gateway, with the defaults of SPEC §2.
struct config {
  server_config server;
  db_config db;
  sms_config sms;
  provider_config provider;
  callbacks_config callbacks;
  admin_config admin;
  ussd_config ussd;
  limits_config limits;
  log_config log;
};

/// Reads `toml_text` (may be empty), applies overrides from `environment` (entries of the
/// form NAME=VALUE, as in `environ`), reads secrets given as files (`*_file` keys) and
/// validates. Throws config_error.
config load_from_text(const std::string& toml_text, const std::vector<std::string>& environment);

/// Reads the file at `path` (empty path: defaults only), applies the process environment,
/// validates, and creates the database's folder when missing. Throws config_error.
config load(const std::string& path);

/// Parses "250ms", "10s", "15m", "24h" or a bare number of seconds. Throws config_error
/// (without a key; callers prefix it).
std::chrono::milliseconds parse_duration(const std::string& text);

/// Every key the gateway knows, as "section.key", in the order of the example file.
std::vector<std::string> known_keys();

}  // namespace cp2::config
