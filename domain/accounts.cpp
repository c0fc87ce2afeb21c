#include "domain/accounts.hpp"

#include <fmt/format.h>

namespace cp2::domain {
namespace {

constexpr std::string_view reset_event = "password_reset";
constexpr std::string_view reset_notice_event = "password_reset_limit_notice";
constexpr std::string_view credential_event = "credential_sms";
// The phone under which gateway-wide events are counted.
constexpr std::string_view everyone = "*";
constexpr unix_ms minute_ms = 60'000;
constexpr unix_ms hour_ms = 3'600'000;
constexpr unix_ms day_ms = 24 * hour_ms;

}  // namespace

std::string_view to_string(message_kind kind) {
  switch (kind) {
    case message_kind::credentials: return "credentials";
    case message_kind::reply: return "reply";
    case message_kind::notification: return "notification";
  }
  return "reply";
}

std::string credentials_text(std::string_view username, std::string_view password, bool reset) {
  return fmt::format("KNEC CP2: {} Username: {} Password: {} Keep them private.",
                     reset ? "your password has been reset." : "your account is ready.", username,
                     password);
}

std::string already_registered_text(std::string_view shortcode) {
  return fmt::format(
      "KNEC CP2: you already have an account; your username is this phone number. To get a "
      "new password, SMS PASSWORD to {}.",
      shortcode);
}

std::string reset_limited_text(int per_hour, int per_day) {
  return fmt::format(
      "KNEC CP2: you have reached the limit of new passwords ({} an hour, {} a day). Please use "
      "the latest one or try again later.",
      per_hour, per_day);
}

std::string no_account_text(std::string_view shortcode) {
  return fmt::format("KNEC CP2: this number has no account. To create one, SMS REGISTER to {}.",
                     shortcode);
}

std::string help_text(std::string_view shortcode) {
  return fmt::format(
      "KNEC CP2 on {}: REGISTER for an account, PASSWORD for a new password, STATUS for your "
      "applications, STOP or START notifications. Dial the USSD code to apply.",
      shortcode);
}

std::string opted_out_text(std::string_view shortcode) {
  return fmt::format(
      "KNEC CP2: you will get no more notifications. Replies to your own requests still come. "
      "SMS START to {} to resume.",
      shortcode);
}

std::string opted_in_text() { return "KNEC CP2: notifications are on again."; }

credentials make_credentials(random_source& random, password_hasher& hasher) {
  credentials c;
  c.password = make_password(random);
  c.hash = hasher.hash(c.password);
  return c;
}

account_service::account_service(account_store& store, const clock& clock, account_limits limits,
                                 std::string shortcode)
    : store_(store), clock_(clock), limits_(limits), shortcode_(std::move(shortcode)) {}

bool account_service::exists(const msisdn& phone) {
  return store_.find_account(phone.digits()).has_value();
}

account_service::create_result account_service::create(const msisdn& phone,
                                                        const credentials& creds, channel via,
                                                        const std::string& link_id) {
  auto result = create_result::created;
  store_.in_transaction([&] {
    auto now = clock_.now();
    if (store_.find_account(phone.digits())) {
      result = create_result::exists;
      if (via == channel::sms)
        store_.enqueue_sms({phone.digits(), already_registered_text(shortcode_), false,
                            message_kind::reply, link_id},
                           now);
      return;
    }
    if (credential_ceiling_reached()) {
      result = create_result::busy;
      return;
    }
    account_record a;
    a.phone = phone.digits();
    a.username = phone.digits();
    a.password_hash = creds.hash;
    store_.insert_account(a, now);
    store_.enqueue_sms({phone.digits(), credentials_text(a.username, creds.password, false), true,
                        message_kind::credentials, link_id},
                       now);
    count_credential_sms(phone.digits(), now);
  });
  return result;
}

bool account_service::credential_ceiling_reached() {
  return store_.count_events(std::string(everyone), credential_event, clock_.now() - minute_ms) >=
         limits_.credential_sms_per_minute;
}

void account_service::count_credential_sms(const std::string& phone, unix_ms now) {
  store_.add_event(phone, credential_event, now);
  store_.add_event(std::string(everyone), credential_event, now);
}

bool account_service::reset_limited(const std::string& phone) {
  auto now = clock_.now();
  return store_.count_events(phone, reset_event, now - hour_ms) >= limits_.password_resets_per_hour ||
         store_.count_events(phone, credential_event, now - day_ms) >= limits_.credential_sms_per_day;
}

account_service::reset_result account_service::check_reset(const msisdn& phone, channel via,
                                                            const std::string& link_id) {
  auto result = reset_result::done;
  store_.in_transaction([&] {
    auto now = clock_.now();
    if (!store_.find_account(phone.digits())) {
      result = reset_result::no_account;
      if (via == channel::sms)
        store_.enqueue_sms(
            {phone.digits(), no_account_text(shortcode_), false, message_kind::reply, link_id},
            now);
      return;
    }
    if (!reset_limited(phone.digits())) return;
    result = reset_result::limited;
    // Told once per window: a second notice only after an hour without one.
    if (via == channel::sms &&
        store_.count_events(phone.digits(), reset_notice_event, now - hour_ms) == 0) {
      store_.add_event(phone.digits(), reset_notice_event, now);
      store_.enqueue_sms({phone.digits(),
                          reset_limited_text(limits_.password_resets_per_hour, limits_.credential_sms_per_day),
                          false, message_kind::reply, link_id},
                         now);
    }
  });
  return result;
}

account_service::reset_result account_service::reset(const msisdn& phone,
                                                      const credentials& creds, channel via,
                                                      const std::string& link_id) {
  auto result = reset_result::done;
  store_.in_transaction([&] {
    auto now = clock_.now();
    auto a = store_.find_account(phone.digits());
    if (!a) {
      result = reset_result::no_account;
      return;
    }
    // Checked again here: two resets may both have passed check_reset.
    if (reset_limited(phone.digits())) {
      result = reset_result::limited;
      return;
    }
    if (credential_ceiling_reached()) {
      result = reset_result::busy;
      return;
    }
    store_.update_password(phone.digits(), creds.hash, now);
    store_.add_event(phone.digits(), reset_event, now);
    store_.enqueue_sms({phone.digits(), credentials_text(a->username, creds.password, true), true,
                        message_kind::credentials, link_id},
                       now);
    count_credential_sms(phone.digits(), now);
  });
  (void)via;
  return result;
}

void account_service::reply_help(const msisdn& phone, const std::string& link_id) {
  store_.enqueue_sms({phone.digits(), help_text(shortcode_), false, message_kind::reply, link_id},
                     clock_.now());
}

void account_service::set_opt_out(const msisdn& phone, bool out, const std::string& link_id) {
  store_.in_transaction([&] {
    auto now = clock_.now();
    store_.set_opted_out(phone.digits(), out, now);
    store_.enqueue_sms({phone.digits(), out ? opted_out_text(shortcode_) : opted_in_text(), false,
                        message_kind::reply, link_id},
                       now);
  });
}

account_service::login_start account_service::begin_login(std::string_view username) {
  login_start s;
  auto phone = parse_msisdn(username);
  if (!phone) return s;
  auto a = store_.find_account(phone->digits());
  if (!a) return s;
  s.phone = a->phone;
  s.hash = a->password_hash;
  s.locked = a->locked_until > clock_.now();
  return s;
}

bool account_service::finish_login(const login_start& start, bool password_ok) {
  if (!start.phone || start.locked) return false;
  bool ok = false;
  store_.in_transaction([&] {
    auto a = store_.find_account(*start.phone);
    if (!a) return;
    auto now = clock_.now();
    if (a->locked_until > now) return;  // locked meanwhile by a racing failure
    if (password_ok && a->password_hash == start.hash) {
      ok = true;
      if (a->failed_logins != 0 || a->locked_until != 0) store_.update_login_state(a->phone, 0, 0);
      return;
    }
    int failures = a->failed_logins + 1;
    if (failures >= limits_.login_max_failures)
      store_.update_login_state(a->phone, 0, now + limits_.login_lock_ms);
    else
      store_.update_login_state(a->phone, failures, 0);
  });
  return ok;
}

}  // namespace cp2::domain
