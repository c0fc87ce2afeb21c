#pragma once
// Applications (SPEC 4.5, 7): the rules of applying and withdrawing, the texts sent about them,
// and the storage they need.

#include "domain/accounts.hpp"
#include "domain/clock.hpp"
#include "domain/msisdn.hpp"
#include "domain/password.hpp"
#include "domain/profile.hpp"
#include "domain/vacancy.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cp2::domain {

/// Where an application stands.
enum class application_status { submitted, withdrawn, approved, rejected };

/// "submitted", "withdrawn", "approved", "rejected".
std::string_view to_string(application_status s);

/// The status named `text`, if it is one.
std::optional<application_status> parse_application_status(std::string_view text);

/// Submitted and approved applications are active; they count against the one-per-exam-and-
/// activity rule.
bool is_active(application_status s);

/// An application, with the vacancy details shown beside it.
struct application {
  std::string ref;  ///< e.g. CP2-7K3M9Q
  std::string phone;
  std::string vacancy_code;
  application_status status = application_status::submitted;
  unix_ms created_at = 0;
  std::string exam, activity, role, station;  ///< copied from the vacancy for lists
  unix_ms closes_at = 0;                      ///< the vacancy's, for "may withdraw"
};

/// What applying reads before it decides, in one go.
struct apply_facts {
  bool has_account = false;
  profile applicant;                    ///< the stored profile, or an empty one
  std::optional<vacancy> wanted;        ///< the vacancy applied for; none when no such code
  int approved = 0;                     ///< approved applications of that vacancy
  std::vector<application> active;      ///< the applicant's submitted and approved applications
};

/// What the application rules read and write.
/// Thread safety: one thread at a time (the database thread).
class application_store {
public:
  virtual ~application_store() = default;
  /// Runs `fn` in one transaction (joins an outer one).
  virtual void in_transaction(const std::function<void()>& fn) = 0;
  virtual bool has_account(const std::string& phone) = 0;
  /// The stored profile, or an empty one.
  virtual profile find_profile(const std::string& phone) = 0;
  virtual void save_profile(const std::string& phone, const profile& p, unix_ms now) = 0;
  virtual std::optional<vacancy> find_vacancy(const std::string& code) = 0;
  /// Approved applications of a vacancy.
  virtual int approved_count(const std::string& code) = 0;
  /// Everything apply checks, for `phone` applying to vacancy `code`.
  virtual apply_facts read_for_apply(const std::string& phone, const std::string& code) = 0;
  virtual std::optional<application> find_by_ref(const std::string& ref) = 0;
  /// Stores `a`. False, with nothing written, when its reference is taken already.
  virtual bool insert_application(const application& a) = 0;
  virtual void update_status(const std::string& ref, application_status s, unix_ms now) = 0;
  /// The applicant's applications, newest first.
  virtual std::vector<application> list_for(const std::string& phone) = 0;
  virtual void enqueue_sms(const outbound_sms& sms, unix_ms now) = 0;
  /// True when the phone sent STOP (notifications are then not sent).
  virtual bool opted_out(const std::string& phone) = 0;
};

/// A new application reference: "CP2-" and six letters and digits without look-alikes.
std::string make_reference(random_source& random);

/// The SMS confirming an application: one GSM-7 segment, shortening the station if needed.
std::string confirmation_text(const application& a, std::string_view shortcode);

/// The SMS answer to STATUS: every application with its status (several segments if need be).
std::string status_text(const std::vector<application>& apps, std::string_view shortcode);

/// Outcome of applying.
struct apply_outcome {
  enum class kind {
    submitted,           ///< new; `app` is it and the confirmation SMS is queued
    already_applied,     ///< to this vacancy; `app` is the existing one (same reference)
    conflict,            ///< an active application for the same exam and activity: `app`
    closed,              ///< not open now (before opening or after closing)
    filled,              ///< approvals reached the slots
    no_vacancy,          ///< no such code
    no_account,
    incomplete_profile,
  } result = kind::no_vacancy;
  application app;
};

/// The SMS telling an applicant their application was approved or rejected.
std::string decision_text(const application& a, application_status decided);

/// Outcome of an operator's decision.
struct decision_outcome {
  enum class kind {
    decided,    ///< status changed; `app` has the new one
    unchanged,  ///< it already had that status: nothing done, nothing sent
    not_found,
    withdrawn,  ///< the applicant withdrew it: no decision possible
    full,       ///< approving would exceed the vacancy's slots
  } result = kind::not_found;
  application app;
  bool notified = false;     ///< an SMS was queued (not when the applicant sent STOP)
  bool now_filled = false;   ///< this approval filled the vacancy: the catalog must drop it
};

/// Outcome of withdrawing.
enum class withdraw_result { withdrawn, not_found, not_active, closed };

/// The application rules. Every method runs on the database thread.
class application_service {
public:
  application_service(application_store& store, const clock& clock, random_source& random,
                      std::string shortcode);

  /// Applies `phone` to vacancy `code`, in one transaction with the confirmation SMS.
  apply_outcome apply(const msisdn& phone, const std::string& code);

  /// Withdraws the applicant's application `ref` while its vacancy is open.
  withdraw_result withdraw(const msisdn& phone, const std::string& ref);

  /// The applicant's applications, newest first.
  std::vector<application> list(const msisdn& phone);

  /// An operator approves or rejects `ref` (SPEC 6 PATCH); notifies the applicant by SMS
  /// unless they sent STOP, in the same transaction.
  decision_outcome decide(const std::string& ref, application_status to);

  /// Answers SMS STATUS.
  void reply_status(const msisdn& phone, const std::string& link_id);

  /// The applicant's profile (empty fields when never given).
  profile get_profile(const msisdn& phone);

  /// Stores one field's canonical value.
  void save_field(const msisdn& phone, profile_field field, const std::string& value);

private:
  application_store& store_;
  const clock& clock_;
  random_source& random_;
  std::string shortcode_;
};

}  // namespace cp2::domain
