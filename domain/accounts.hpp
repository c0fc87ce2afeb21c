#pragma once
// Accounts (SPEC 4.2, 4.3, 6 login): the rules, the texts sent to applicants, and the storage
// they need. No I/O here: the store is an interface that db/ implements, the clock and the
// random source are injected, and hashing is a separate step so it can run off the database
// thread.

#include "domain/clock.hpp"
#include "domain/msisdn.hpp"
#include "domain/password.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cp2::domain {

/// How a request reached us; decides whether an outcome is told on screen or by SMS.
enum class channel { ussd, sms, portal };

/// What kind of outbound SMS a message is (stored with it; STOP never stops credentials or
/// replies).
enum class message_kind { credentials, reply, notification };

/// Text for a message_kind as stored in the database.
std::string_view to_string(message_kind kind);

/// One SMS to send, as it goes into the outbox.
struct outbound_sms {
  std::string phone;  ///< canonical 2547… digits
  std::string body;
  bool sensitive = false;  ///< carries a password: redacted once the provider has it
  message_kind kind = message_kind::reply;
  std::string link_id;  ///< the incoming SMS's linkId when this is a reply to it
};

/// An account as stored.
struct account_record {
  std::string phone;     ///< canonical digits
  std::string username;  ///< the same digits (SPEC 4.2)
  std::string password_hash;
  int failed_logins = 0;
  unix_ms locked_until = 0;
};

/// A freshly generated password and its hash.
struct credentials {
  std::string password;
  std::string hash;
};

/// One-way password hashing (argon2id in production).
/// Thread safety: may be called from several threads at once.
class password_hasher {
public:
  virtual ~password_hasher() = default;
  /// A self-describing hash string of `password`.
  virtual std::string hash(std::string_view password) = 0;
  /// True when `password` matches `hash`.
  virtual bool verify(std::string_view hash, std::string_view password) = 0;
};

/// What the account rules read and write.
/// Thread safety: one thread at a time (the database thread).
class account_store {
public:
  virtual ~account_store() = default;
  /// Runs `fn` in one transaction: committed when fn returns, rolled back when it throws.
  virtual void in_transaction(const std::function<void()>& fn) = 0;
  /// The account of `phone`, if any.
  virtual std::optional<account_record> find_account(const std::string& phone) = 0;
  /// Adds an account; the phone must not have one.
  virtual void insert_account(const account_record& account, unix_ms now) = 0;
  /// Replaces the password hash and clears failed logins and any lock.
  virtual void update_password(const std::string& phone, const std::string& hash, unix_ms now) = 0;
  /// Stores the login failure count and lock.
  virtual void update_login_state(const std::string& phone, int failed_logins,
                                  unix_ms locked_until) = 0;
  /// How many events of `kind` `phone` has had since `since`.
  virtual int count_events(const std::string& phone, std::string_view kind, unix_ms since) = 0;
  /// Records an event of `kind` for `phone`.
  virtual void add_event(const std::string& phone, std::string_view kind, unix_ms at) = 0;
  /// Queues an SMS in the outbox (inside the caller's transaction when there is one).
  virtual void enqueue_sms(const outbound_sms& sms, unix_ms now) = 0;
  /// True when the incoming SMS `id` was handled already.
  virtual bool inbound_seen(const std::string& id) = 0;
  /// Records an incoming SMS id; false when it was recorded before (a repeated delivery).
  virtual bool remember_inbound(const std::string& id, const std::string& phone,
                                std::string_view keyword, unix_ms now) = 0;
  /// Opts `phone` out of notifications (STOP) or back in (START); works without an account.
  virtual void set_opted_out(const std::string& phone, bool opted_out, unix_ms now) = 0;
  /// True when `phone` sent STOP and not START since.
  virtual bool opted_out(const std::string& phone) = 0;
};

/// The limits of SPEC 7 and the abuse limits of docs/security.md.
struct account_limits {
  int password_resets_per_hour = 3;
  int login_max_failures = 5;
  unix_ms login_lock_ms = 15 * 60'000;
  int credential_sms_per_day = 10;         ///< per phone number, creations and resets together
  int credential_sms_per_minute = 120;     ///< for the whole gateway: stops SMS pumping
};

/// The credential SMS (SPEC 4.2): contains "Username: <u>" and "Password: <p>"; one segment.
std::string credentials_text(std::string_view username, std::string_view password, bool reset);

/// Told to someone who asks for an account they already have.
std::string already_registered_text(std::string_view shortcode);

/// Told once per window when password resets are over the limit.
std::string reset_limited_text(int per_hour, int per_day);

/// Told to someone who asks for a password reset without an account.
std::string no_account_text(std::string_view shortcode);

/// The reply to HELP and to anything unrecognised: the keywords, in one segment.
std::string help_text(std::string_view shortcode);

/// The reply to STOP.
std::string opted_out_text(std::string_view shortcode);

/// The reply to START.
std::string opted_in_text();

/// Generates a password and hashes it: the expensive step, run on the CPU pool.
credentials make_credentials(random_source& random, password_hasher& hasher);

/// The account rules. Every method except make_credentials runs on the database thread.
class account_service {
public:
  account_service(account_store& store, const clock& clock, account_limits limits,
                  std::string shortcode);

  /// True when `phone` has an account.
  bool exists(const msisdn& phone);

  /// Outcome of create(). `busy`: the gateway-wide ceiling on credential SMS was reached.
  enum class create_result { created, exists, busy };
  /// Creates the account with `creds` and queues the credential SMS, in one transaction. An
  /// existing account is left alone; over SMS the applicant is told how to reset instead.
  create_result create(const msisdn& phone, const credentials& creds, channel via,
                       const std::string& link_id = {});

  /// Outcome of check_reset() and reset().
  enum class reset_result { done, no_account, limited, busy };
  /// Whether a reset may go ahead now, before a password is hashed for it. Over SMS, a
  /// limited applicant is told once per window and a number without an account is told how
  /// to register.
  reset_result check_reset(const msisdn& phone, channel via, const std::string& link_id = {});
  /// Replaces the password with `creds` and queues the credential SMS, in one transaction,
  /// checking the limit again inside it.
  reset_result reset(const msisdn& phone, const credentials& creds, channel via,
                     const std::string& link_id = {});

  /// Answers HELP (or an unknown keyword) with the help text.
  void reply_help(const msisdn& phone, const std::string& link_id);
  /// STOP (`out`) or START: records the choice, with or without an account, and confirms it.
  void set_opt_out(const msisdn& phone, bool out, const std::string& link_id);

  /// What a login needs before the password is verified off this thread.
  struct login_start {
    std::optional<std::string> phone;          ///< null: no such account
    std::string hash;                          ///< the account's hash, when there is one
    bool locked = false;                       ///< refused whatever the password
  };
  /// Looks up `username` (any accepted phone form) for a login.
  login_start begin_login(std::string_view username);
  /// Records the verification's outcome; true when the login succeeds.
  bool finish_login(const login_start& start, bool password_ok);

private:
  bool reset_limited(const std::string& phone);
  bool credential_ceiling_reached();
  void count_credential_sms(const std::string& phone, unix_ms now);

  account_store& store_;
  const clock& clock_;
  account_limits limits_;
  std::string shortcode_;
};

}  // namespace cp2::domain
