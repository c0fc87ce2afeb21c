#include "sms/africastalking_protocol.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace cp2::sms {

// Retry decisions. The SPEC pulls two ways: every message is "sent at least once" and "not
// re-sent once the provider accepted it" (§5), and a lost credential SMS is a teacher who cannot
// log in. Repeating a send the provider did not take costs nothing; a duplicate of one it took
// costs about KES 0.80 and repeats the same text (the outbox resends the stored text, so the
// same password). So: retry whenever the message itself could still go through, stop only when
// the provider has it or the recipient can never get it, and raise an alarm at once when an
// operator must fix something: the retries give them sms.max_age (24 h) to do it.
//
// | provider answer                  | failure              | retry | alarm | note
// |----------------------------------|----------------------|-------|-------|-----
// | statusCode 100, 101, 102         | none: accepted       |   -   |   -   | a
// | statusCode 401 RiskHold          | rejected             |  no   |  yes  | b
// | statusCode 402 InvalidSenderId   | config_invalid       |  no   |  yes  | c
// | statusCode 403, 404              | invalid_number       |  no   |  no   | d
// | statusCode 405 InsufficientBal.  | insufficient_balance |  yes  |  yes  | e
// | statusCode 406, 409              | rejected             |  no   |  no   | f
// | statusCode 407, 500, 501, 502    | response_status      |  yes  |  no   | g
// | 2xx unreadable, unknown code     | response_unparseable |  yes  |  yes  | h
// | 2xx, no recipient, known Message | as that statusCode   |       |       | i
// | HTTP 401, 403                    | bad_credentials      |  yes  |  yes  | j
// | HTTP 408, curl timeout           | timeout              |  yes  |  no   | k
// | HTTP 429                         | throttled            |  yes  |  no   |
// | HTTP 5xx                         | response_status      |  yes  |  no   | g
// | HTTP 3xx, other 4xx              | config_invalid       |  no   |  yes  | c
// | HTTP < 200 or > 599, curl error  | connection_failed    |  yes  |  no   |
//
// a. The provider has it: never send again; delivery reports take over.
// b. The provider holds the message for its risk review and then releases or drops it itself
//    (a report may still come for its messageId, which is kept). Resending the same text from
//    a held account adds duplicates and risk; an operator takes it up with the provider.
// c. The request as built is refused (sender id not ours, wrong base_url, missing field): the
//    same request cannot succeed until someone changes the configuration or the code.
// d. InvalidPhoneNumber, UnsupportedNumberType (a landline…): this number never takes an SMS.
// e. Nothing was sent and credit gets topped up: keep the message, tell an operator now.
// f. UserInBlacklist, DoNotDisturbRejection: the subscriber's own choice; retrying cannot help.
// g. A failure at the provider or the telco (CouldNotRoute, GatewayError, RejectedByGateway…):
//    temporary, and nothing was sent, so a retry is free.
// h. The provider may have taken it, but acceptance is only known from a 100-102 we can read:
//    a possible duplicate beats a lost password. The alarm keeps a change of format from
//    resending every message for 24 h unnoticed.
// i. {"Message":"InvalidSenderId","Recipients":[]}: nothing was sent; Message names the reason.
// j. Nothing was sent; keys get rotated and IP allow-lists edited. Keep the messages until the
//    operator fixes it rather than fail every credential SMS meanwhile.
// k. At least once: a timeout after the provider took the message may cause a duplicate.

namespace {

struct recipient_status {
  int code;
  std::string_view name;  // as the provider spells it; only these names reach `detail`
  send_failure failure;
  bool alarm;
};

constexpr recipient_status recipient_statuses[] = {
    {100, "Processed", send_failure::none, false},
    {101, "Sent", send_failure::none, false},
    {102, "Queued", send_failure::none, false},
    {401, "RiskHold", send_failure::rejected, true},
    {402, "InvalidSenderId", send_failure::config_invalid, true},
    {403, "InvalidPhoneNumber", send_failure::invalid_number, false},
    {404, "UnsupportedNumberType", send_failure::invalid_number, false},
    {405, "InsufficientBalance", send_failure::insufficient_balance, true},
    {406, "UserInBlacklist", send_failure::rejected, false},
    {407, "CouldNotRoute", send_failure::response_status, false},
    {409, "DoNotDisturbRejection", send_failure::rejected, false},
    {500, "InternalServerError", send_failure::response_status, false},
    {501, "GatewayError", send_failure::response_status, false},
    {502, "RejectedByGateway", send_failure::response_status, false},
};

bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim_space(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

const recipient_status* status_by_code(std::int64_t code) noexcept {
  for (const recipient_status& s : recipient_statuses)
    if (s.code == code) return &s;
  return nullptr;
}

const recipient_status* status_by_name(std::string_view name) noexcept {
  // The provider reports statusCode 101 with status "Success" (§5 sample), not "Sent".
  if (iequals(name, "Success")) return status_by_code(101);
  for (const recipient_status& s : recipient_statuses)
    if (iequals(s.name, name)) return &s;
  return nullptr;
}

// Operator attention is a property of the kind, except RiskHold (see the table above). No
// `default:`, so a new kind does not compile quietly without a decision here.
bool alarm_for(send_failure f) noexcept {
  switch (f) {
    case send_failure::response_unparseable:
    case send_failure::bad_credentials:
    case send_failure::insufficient_balance:
    case send_failure::config_invalid: return true;
    case send_failure::none:
    case send_failure::connection_failed:
    case send_failure::timeout:
    case send_failure::throttled:
    case send_failure::response_status:
    case send_failure::invalid_number:
    case send_failure::rejected: return false;
  }
  return false;
}

send_outcome failed(send_failure f, std::string detail) {
  send_outcome out;
  out.failure = f;
  out.retryable = is_retryable(f);
  out.alarm = alarm_for(f);
  out.detail = std::move(detail);
  return out;
}

std::string http_prefix(long http_status) { return "HTTP " + std::to_string(http_status); }

const boost::json::value* member(const boost::json::value& v, std::string_view key) {
  const boost::json::object* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

std::string string_member(const boost::json::value& v, std::string_view key) {
  const boost::json::value* m = member(v, key);
  if (!m) return {};
  if (const boost::json::string* s = m->if_string()) return std::string(s->data(), s->size());
  if (const std::int64_t* i = m->if_int64()) return std::to_string(*i);
  if (const std::uint64_t* u = m->if_uint64()) return std::to_string(*u);
  return {};
}

// statusCode is a JSON number in the provider's answers; a string of digits is accepted too
// because some proxies and SDK mocks re-serialise numbers as strings.
std::optional<std::int64_t> code_member(const boost::json::value& v, std::string_view key) {
  const boost::json::value* m = member(v, key);
  if (!m) return std::nullopt;
  if (const std::int64_t* i = m->if_int64()) return *i;
  if (const std::uint64_t* u = m->if_uint64())
    return *u <= 9999 ? std::optional<std::int64_t>(static_cast<std::int64_t>(*u)) : std::nullopt;
  if (const double* d = m->if_double()) {
    if (*d >= 0 && *d <= 9999 && *d == static_cast<double>(static_cast<std::int64_t>(*d)))
      return static_cast<std::int64_t>(*d);
    return std::nullopt;
  }
  if (const boost::json::string* s = m->if_string()) {
    std::string_view sv(s->data(), s->size());
    if (sv.empty() || sv.size() > 4) return std::nullopt;
    std::int64_t n = 0;
    for (char c : sv) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return std::nullopt;
}

send_outcome from_status(const recipient_status& st, std::string detail) {
  send_outcome out;
  out.status_code = st.code;
  out.detail = std::move(detail);
  if (st.failure == send_failure::none) {
    out.accepted = true;
    return out;
  }
  out.failure = st.failure;
  out.retryable = is_retryable(st.failure);
  out.alarm = st.alarm;
  return out;
}

send_outcome classify_recipient(const std::string& http, const boost::json::value& r) {
  if (!r.is_object())
    return failed(send_failure::response_unparseable, http + ": recipient is not an object");

  const recipient_status* st = nullptr;
  std::string what;
  if (std::optional<std::int64_t> code = code_member(r, "statusCode")) {
    st = status_by_code(*code);
    if (!st)
      return failed(send_failure::response_unparseable,
                    http + ": unknown statusCode " + std::to_string(*code));
    what = "statusCode " + std::to_string(st->code) + " " + std::string(st->name);
  } else {
    st = status_by_name(string_member(r, "status"));
    if (!st)
      return failed(send_failure::response_unparseable,
                    http + ": recipient without a known status");
    what = "status " + std::string(st->name) + " without statusCode";
  }

  send_outcome out = from_status(*st, http + ": " + what);
  out.message_id = string_member(r, "messageId");
  // Failed recipients carry the placeholder "None", which must not be matched against reports.
  if (out.message_id == "None") out.message_id.clear();
  out.cost = string_member(r, "cost");
  if (out.accepted && out.message_id.empty()) out.detail += ", no messageId";
  return out;
}

send_outcome classify_body(long http_status, std::string_view body) {
  const std::string http = http_prefix(http_status);
  if (trim_space(body).empty())
    return failed(send_failure::response_unparseable, http + ": empty body");

  boost::system::error_code ec;
  // A provider's answer is a few hundred bytes: parsed into a buffer on the stack, without a
  // heap allocation per object, key and string (the resource falls back to the heap beyond it).
  unsigned char scratch[4096];
  boost::json::monotonic_resource memory(scratch, sizeof scratch);
  boost::json::value doc = boost::json::parse(body, ec, &memory);
  if (ec) return failed(send_failure::response_unparseable, http + ": body is not JSON");

  const boost::json::value* data = member(doc, "SMSMessageData");
  const boost::json::value* recipients = data ? member(*data, "Recipients") : nullptr;
  const boost::json::array* list = recipients ? recipients->if_array() : nullptr;
  if (!list)
    return failed(send_failure::response_unparseable, http + ": no SMSMessageData.Recipients");

  if (list->empty()) {
    // Nothing was sent to anyone; the provider puts the reason in Message, e.g.
    // "InvalidSenderId". Only a reason we know is used: Message is otherwise free text.
    if (const recipient_status* st = status_by_name(string_member(*data, "Message"));
        st && st->failure != send_failure::none)
      return from_status(*st, http + ": no recipients, " + std::string(st->name));
    return failed(send_failure::response_unparseable, http + ": no recipients");
  }
  // We send to one number, so the first recipient is the answer.
  return classify_recipient(http, list->front());
}

}  // namespace

std::string form_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                            (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

http_post build_send_request(const provider_credentials& creds, const outbound_message& msg) {
  std::string_view base = creds.base_url;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);

  http_post post;
  post.url = std::string(base) + "/version1/messaging";
  post.headers = {
      {"apiKey", creds.api_key},
      {"Accept", "application/json"},
      {"Content-Type", "application/x-www-form-urlencoded"},
  };

  auto field = [&post](std::string_view name, std::string_view value) {
    if (!post.body.empty()) post.body += '&';
    post.body += name;
    post.body += '=';
    post.body += form_encode(value);
  };
  field("username", creds.username);
  field("to", msg.to_international);
  field("message", msg.text);
  // An empty `from` would be refused as InvalidSenderId; leaving it out uses the account's
  // default sender, which is what an unset shortcode means.
  if (!msg.from.empty()) field("from", msg.from);
  if (!msg.link_id.empty()) field("linkId", msg.link_id);
  return post;
}

send_outcome classify_response(long http_status, std::string_view body) {
  const std::string http = http_prefix(http_status);
  if (http_status < 200 || http_status > 599)
    return failed(send_failure::connection_failed, http + ": not a final HTTP status");
  if (http_status < 300) return classify_body(http_status, body);
  if (http_status == 401 || http_status == 403) return failed(send_failure::bad_credentials, http);
  if (http_status == 408) return failed(send_failure::timeout, http);
  if (http_status == 429) return failed(send_failure::throttled, http);
  if (http_status >= 500) return failed(send_failure::response_status, http);
  return failed(send_failure::config_invalid, http);
}

send_outcome classify_transport_error(send_failure which, std::string_view detail) {
  constexpr std::size_t max_detail = 160;
  if (which == send_failure::none) which = send_failure::connection_failed;
  std::string safe;
  for (char ch : detail.substr(0, max_detail)) {
    const auto c = static_cast<unsigned char>(ch);
    safe += (c >= 0x20 && c < 0x7F) ? ch : '?';
  }
  return failed(which, std::string(to_string(which)) + ": " + safe);
}

bool is_retryable(send_failure failure) noexcept {
  switch (failure) {
    case send_failure::connection_failed:
    case send_failure::timeout:
    case send_failure::throttled:
    case send_failure::response_status:
    case send_failure::response_unparseable:
    case send_failure::bad_credentials:
    case send_failure::insufficient_balance: return true;
    case send_failure::none:
    case send_failure::invalid_number:
    case send_failure::rejected:
    case send_failure::config_invalid: return false;
  }
  return false;
}

std::string_view to_string(send_failure failure) noexcept {
  switch (failure) {
    case send_failure::none: return "none";
    case send_failure::connection_failed: return "connection_failed";
    case send_failure::timeout: return "timeout";
    case send_failure::throttled: return "throttled";
    case send_failure::response_status: return "response_status";
    case send_failure::response_unparseable: return "response_unparseable";
    case send_failure::bad_credentials: return "bad_credentials";
    case send_failure::insufficient_balance: return "insufficient_balance";
    case send_failure::invalid_number: return "invalid_number";
    case send_failure::rejected: return "rejected";
    case send_failure::config_invalid: return "config_invalid";
  }
  return "unknown";
}

delivery_state map_dlr_status(std::string_view status) noexcept {
  status = trim_space(status);
  for (std::string_view s : {"Sent", "Submitted", "Buffered"})
    if (iequals(status, s)) return delivery_state::sent;
  if (iequals(status, "Success")) return delivery_state::delivered;
  for (std::string_view s : {"Rejected", "Failed", "Expired", "AbsentSubscriber"})
    if (iequals(status, s)) return delivery_state::failed;
  return delivery_state::unknown;
}

std::string_view to_string(delivery_state state) noexcept {
  switch (state) {
    case delivery_state::sent: return "sent";
    case delivery_state::delivered: return "delivered";
    case delivery_state::failed: return "failed";
    case delivery_state::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace cp2::sms
