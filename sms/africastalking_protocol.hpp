#pragma once
// Africa's Talking outbound SMS (SPEC §5, §3.3): the request to send and what its answer means.
// Pure functions, no I/O, so tests call them directly; the libcurl client only moves the bytes.
// Boost.JSON stays in the .cpp: this header is included by the outbox sender and the gateway.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cp2::sms {

/// Where and as whom to send: `provider.base_url`, `provider.username`, `provider.api_key`.
struct provider_credentials {
  /// API root such as "https://api.africastalking.com"; trailing slashes are tolerated.
  std::string base_url;
  /// The Africa's Talking application username.
  std::string username;
  /// The API key; it goes into the `apiKey` header only, never into a body, outcome or log.
  std::string api_key;
};

/// One SMS to one recipient.
struct outbound_message {
  /// The recipient in international form with a plus, "+2547XXXXXXXX".
  std::string to_international;
  /// The UTF-8 text; may hold a password, so it is never logged.
  std::string text;
  /// The sender (`sms.shortcode`); the `from` field is left out when empty.
  std::string from;
  /// The incoming SMS's `linkId` when this is a reply (§3.2); empty = none.
  std::string link_id;
};

/// A POST for the HTTP client to perform as is.
struct http_post {
  /// Absolute URL.
  std::string url;
  /// Headers in the order to send them; names as the provider documents them.
  std::vector<std::pair<std::string, std::string>> headers;
  /// application/x-www-form-urlencoded body.
  std::string body;
};

/// Percent-encodes `s` for an application/x-www-form-urlencoded value: every byte except ASCII
/// letters, digits and "-._~" becomes %XX (upper-case hex), a space becomes %20 and '+' %2B,
/// so the result decodes the same under form rules and RFC 3986 rules. Bytes are encoded as
/// they are, whether or not they are valid UTF-8.
std::string form_encode(std::string_view s);

/// The POST that sends `msg` (§5): `{base_url}/version1/messaging`, headers apiKey, Accept and
/// Content-Type, fields username, to, message, then from and linkId when non-empty. Checking
/// that the credentials are filled in belongs to configuration, not here.
http_post build_send_request(const provider_credentials& creds, const outbound_message& msg);

/// Why a send did not end with the provider accepting the message; a closed set in the shape of
/// courier's core/channels/errors.go. See is_retryable for which are tried again.
enum class send_failure {
  none,                  ///< accepted
  connection_failed,     ///< no HTTP answer (DNS, TCP, TLS, reset); retryable
  timeout,               ///< no answer in time, or HTTP 408; retryable
  throttled,             ///< HTTP 429; retryable
  response_status,       ///< provider-side failure: HTTP 5xx, statusCode 407/5xx; retryable
  response_unparseable,  ///< a 2xx answer we cannot read; retryable, alarm
  bad_credentials,       ///< HTTP 401/403: username, key or IP allow-list; retryable, alarm
  insufficient_balance,  ///< statusCode 405: the account needs credit; retryable, alarm
  invalid_number,        ///< statusCode 403/404: this number cannot get SMS; final
  rejected,              ///< statusCode 401 (alarm)/406/409: risk hold, blacklist, DND; final
  config_invalid,        ///< HTTP 3xx/other 4xx, statusCode 402: refused as built; final, alarm
};

/// The classified result of one send attempt.
struct send_outcome {
  /// True when the provider took the message (statusCode 100, 101 or 102): never send it again.
  bool accepted = false;
  /// True when the same message should be tried again later (§7: with backoff, up to
  /// sms.max_age); always equal to is_retryable(failure).
  bool retryable = false;
  /// True when an operator must act now (credentials, credit, configuration, a risk hold, an
  /// answer we cannot read): log and count an alarm at once rather than only at sms.max_age.
  bool alarm = false;
  /// Why it was not accepted; `none` when accepted.
  send_failure failure = send_failure::none;
  /// The provider's messageId, matched later by delivery reports; may be set even when not
  /// accepted (a held message can still get a report) and empty when the provider gave none.
  std::string message_id;
  /// The provider's cost string, e.g. "KES 0.8000"; empty when absent.
  std::string cost;
  /// The provider's per-recipient statusCode (or the code of its known `status` name when the
  /// number is missing); 0 when the answer carried neither.
  int status_code = 0;
  /// A short description that is safe to log: built from our own words, status numbers and
  /// the provider's status names we know, never from free text in the body, so it can hold
  /// neither the api key, nor the message text, nor the phone number.
  std::string detail;
};

/// Classifies the provider's answer to build_send_request: HTTP status first, then for 2xx the
/// JSON body's first recipient (we send to one number).
send_outcome classify_response(long http_status, std::string_view body);

/// Classifies a send that got no HTTP answer. `which` is normally connection_failed or timeout
/// (both retryable); the client may pass config_invalid for a malformed URL; `none` is treated
/// as connection_failed. `detail` (e.g. curl's error text, which never holds headers or body)
/// is cut to 160 bytes and non-printable bytes replaced with '?'.
send_outcome classify_transport_error(send_failure which, std::string_view detail);

/// Whether a message that failed this way should be tried again later.
bool is_retryable(send_failure failure) noexcept;

/// The enumerator's name ("connection_failed"…), for logs, metrics labels and the database.
std::string_view to_string(send_failure failure) noexcept;

/// An outbound message's state as delivery reports tell it (§3.3).
enum class delivery_state { sent, delivered, failed, unknown };

/// Maps a delivery report's `status`: Sent, Submitted, Buffered → sent; Success → delivered;
/// Rejected, Failed, Expired, AbsentSubscriber → failed; anything else → unknown (the caller
/// acknowledges and logs it). Case and surrounding ASCII whitespace are ignored.
delivery_state map_dlr_status(std::string_view status) noexcept;

/// The enumerator's name ("delivered"…).
std::string_view to_string(delivery_state state) noexcept;

}  // namespace cp2::sms
