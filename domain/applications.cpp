#include "domain/applications.hpp"

#include "domain/gsm7.hpp"

#include <fmt/format.h>

namespace cp2::domain {

std::string_view to_string(application_status s) {
  switch (s) {
    case application_status::submitted: return "submitted";
    case application_status::withdrawn: return "withdrawn";
    case application_status::approved: return "approved";
    case application_status::rejected: return "rejected";
  }
  return "submitted";
}

std::optional<application_status> parse_application_status(std::string_view text) {
  for (auto s : {application_status::submitted, application_status::withdrawn,
                 application_status::approved, application_status::rejected})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

bool is_active(application_status s) {
  return s == application_status::submitted || s == application_status::approved;
}

std::string make_reference(random_source& random) {
  // 32 characters, so six of them are 30 random bits: one draw instead of six (each draw is a
  // system call with libsodium), with every reference as likely as before.
  static constexpr std::string_view alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  static_assert(alphabet.size() == 32);
  std::uint32_t bits = random.uniform(std::uint32_t{1} << 30);
  std::string ref = "CP2-";
  for (int i = 0; i < 6; ++i, bits >>= 5) ref += alphabet[bits & 31u];
  return ref;
}

std::string confirmation_text(const application& a, std::string_view shortcode) {
  auto compose = [&](std::string_view station) {
    return fmt::format("KNEC CP2: application {} received: {} {}, {}. SMS STATUS to {} to check it.",
                       a.ref, a.exam, a.role, station, shortcode);
  };
  std::string station = a.station;
  std::string text = compose(station);
  // One segment: shorten the station, the longest free text, until it fits.
  while (measure_sms(text).segments > 1 && station.size() > 8) {
    station.resize(station.size() - 4);
    station += "..";
    text = compose(station);
    station.resize(station.size() - 2);
  }
  return text;
}

std::string status_text(const std::vector<application>& apps, std::string_view shortcode) {
  if (apps.empty())
    return fmt::format("KNEC CP2: you have no applications. Dial the USSD code to apply. Help: SMS HELP to {}.",
                       shortcode);
  std::string text = "KNEC CP2 applications:";
  for (const auto& a : apps)
    text += fmt::format(" {} {} {}, {}: {}.", a.ref, a.exam, a.role, a.station, to_string(a.status));
  return text;
}

std::string decision_text(const application& a, application_status decided) {
  if (decided == application_status::approved)
    return fmt::format("KNEC CP2: your application {} ({} {}, {}) is approved. KNEC will contact you "
                       "with the details.", a.ref, a.exam, a.role, a.station);
  return fmt::format("KNEC CP2: your application {} ({} {}, {}) was not successful this time. Thank "
                     "you for applying.", a.ref, a.exam, a.role, a.station);
}

application_service::application_service(application_store& store, const clock& clock,
                                         random_source& random, std::string shortcode)
    : store_(store), clock_(clock), random_(random), shortcode_(std::move(shortcode)) {}

apply_outcome application_service::apply(const msisdn& phone, const std::string& code) {
  apply_outcome out;
  store_.in_transaction([&] {
    const auto now = clock_.now();
    const auto& p = phone.digits();
    // One read for every check below (three statements on SQLite rather than one for each
    // check): this runs on the writer's thread, where each statement holds up every other write.
    const apply_facts facts = store_.read_for_apply(p, code);
    if (!facts.has_account) {
      out.result = apply_outcome::kind::no_account;
      return;
    }
    if (!is_complete(facts.applicant)) {
      out.result = apply_outcome::kind::incomplete_profile;
      return;
    }
    if (!facts.wanted) {
      out.result = apply_outcome::kind::no_vacancy;
      return;
    }
    const vacancy& v = *facts.wanted;
    auto active = [&](auto matches) -> const application* {
      for (const auto& a : facts.active)
        if (matches(a)) return &a;
      return nullptr;
    };
    // Applying again, even after closing, answers with the same reference.
    if (auto same = active([&](const application& a) { return a.vacancy_code == code; })) {
      out = {apply_outcome::kind::already_applied, *same};
      return;
    }
    if (now < v.opens_at || now >= v.closes_at) {
      out.result = apply_outcome::kind::closed;
      return;
    }
    if (facts.approved >= v.slots) {
      out.result = apply_outcome::kind::filled;
      return;
    }
    auto same_work = [&](const application& a) { return a.exam == v.exam && a.activity == v.activity; };
    if (auto other = active(same_work)) {
      out = {apply_outcome::kind::conflict, *other};
      return;
    }
    application a;
    a.phone = p;
    a.vacancy_code = code;
    a.status = application_status::submitted;
    a.created_at = now;
    a.exam = v.exam;
    a.activity = v.activity;
    a.role = v.role;
    a.station = v.station;
    a.closes_at = v.closes_at;
    // A reference that is taken already is refused by the store, and another is drawn.
    do {
      a.ref = make_reference(random_);
    } while (!store_.insert_application(a));
    // A reply to the applicant's own request: sent even after STOP.
    store_.enqueue_sms({p, confirmation_text(a, shortcode_), false, message_kind::reply, ""}, now);
    out = {apply_outcome::kind::submitted, a};
  });
  return out;
}

withdraw_result application_service::withdraw(const msisdn& phone, const std::string& ref) {
  auto result = withdraw_result::withdrawn;
  store_.in_transaction([&] {
    auto a = store_.find_by_ref(ref);
    if (!a || a->phone != phone.digits()) {
      result = withdraw_result::not_found;
      return;
    }
    if (!is_active(a->status)) {
      result = withdraw_result::not_active;
      return;
    }
    auto now = clock_.now();
    if (now >= a->closes_at) {
      result = withdraw_result::closed;
      return;
    }
    store_.update_status(ref, application_status::withdrawn, now);
  });
  return result;
}

std::vector<application> application_service::list(const msisdn& phone) {
  return store_.list_for(phone.digits());
}

decision_outcome application_service::decide(const std::string& ref, application_status to) {
  decision_outcome out;
  store_.in_transaction([&] {
    auto a = store_.find_by_ref(ref);
    if (!a) return;
    out.app = *a;
    if (a->status == application_status::withdrawn) {
      out.result = decision_outcome::kind::withdrawn;
      return;
    }
    if (a->status == to) {
      out.result = decision_outcome::kind::unchanged;
      return;
    }
    auto v = store_.find_vacancy(a->vacancy_code);
    int approved = store_.approved_count(a->vacancy_code);
    if (to == application_status::approved && v && approved >= v->slots) {
      out.result = decision_outcome::kind::full;
      return;
    }
    auto now = clock_.now();
    store_.update_status(ref, to, now);
    out.app.status = to;
    out.result = decision_outcome::kind::decided;
    out.now_filled = to == application_status::approved && v && approved + 1 >= v->slots;
    if (!store_.opted_out(a->phone)) {
      std::string text = decision_text(*a, to);
      store_.enqueue_sms({a->phone, text, false, message_kind::notification, ""}, now);
      out.notified = true;
    }
  });
  return out;
}

void application_service::reply_status(const msisdn& phone, const std::string& link_id) {
  store_.enqueue_sms({phone.digits(), status_text(store_.list_for(phone.digits()), shortcode_),
                      false, message_kind::reply, link_id},
                     clock_.now());
}

profile application_service::get_profile(const msisdn& phone) {
  return store_.find_profile(phone.digits());
}

void application_service::save_field(const msisdn& phone, profile_field field,
                                      const std::string& value) {
  store_.in_transaction([&] {
    auto p = store_.find_profile(phone.digits());
    field_ref(p, field) = value;
    store_.save_profile(phone.digits(), p, clock_.now());
  });
}

}  // namespace cp2::domain
