#include "domain/outbox.hpp"
#include "domain/write_queue.hpp"
#include "gateway/accounts_workflow.hpp"
#include "db/sqlite_ussd_events.hpp"
#include "gateway/answer_cache.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/rate_limiter.hpp"
#include "sms/keywords.hpp"
#include "gateway/applications_workflow.hpp"
#include "gateway/form.hpp"
#include "gateway/in_flight_limit.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"
#include "sms/africastalking_protocol.hpp"
#include "sms/async.hpp"
#include "ussd/engine.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace cp2::gateway {

namespace asio = boost::asio;
using domain::account_service;

namespace {

constexpr std::string_view apology = "END Sorry, something went wrong. Please try again in a few minutes.";
// Overloaded: nothing of the request was done, and trying again soon is likely to work.
constexpr std::string_view busy = "END The service is busy right now. Please dial again in a minute.";

http_response ussd_answer(std::string text) {
  http_response r;
  r.body = std::move(text);
  return r;
}

// The form's fields, or the 400 to answer when the body is malformed or a field is missing.
std::optional<http_response> read_fields(const std::string& body,
                                         std::initializer_list<const char*> required,
                                         form_fields& out) {
  auto f = parse_form(body);
  if (!f) return text_response(400, "malformed form body");
  for (const char* name : required)
    if (!f->count(name)) return text_response(400, std::string("missing field: ") + name);
  out = std::move(*f);
  return std::nullopt;
}

using result_kind = ussd::action_result::kind;

ussd::action_result to_result(account_service::create_result r) {
  switch (r) {
    case account_service::create_result::created: return {result_kind::created, {}};
    case account_service::create_result::exists: return {result_kind::already_exists, {}};
    case account_service::create_result::busy: return {result_kind::busy, {}};
  }
  return {};
}

ussd::action_result to_result(account_service::reset_result r) {
  switch (r) {
    case account_service::reset_result::done: return {result_kind::reset_done, {}};
    case account_service::reset_result::limited: return {result_kind::reset_limited, {}};
    case account_service::reset_result::no_account: return {result_kind::no_account, {}};
    case account_service::reset_result::busy: return {result_kind::busy, {}};
  }
  return {};
}

ussd::action_result to_result(const domain::apply_outcome& o) {
  using k = domain::apply_outcome::kind;
  switch (o.result) {
    case k::submitted: return {result_kind::submitted, o.app};
    case k::already_applied: return {result_kind::already_applied, o.app};
    case k::conflict: return {result_kind::conflict, o.app};
    case k::closed:
    case k::no_vacancy: return {result_kind::closed, {}};
    case k::filled: return {result_kind::filled, {}};
    case k::no_account: return {result_kind::no_account, {}};
    case k::incomplete_profile: return {result_kind::incomplete_profile, {}};
  }
  return {};
}

ussd::action_result to_result(domain::withdraw_result r) {
  return {r == domain::withdraw_result::withdrawn ? result_kind::withdrawn
                                                  : result_kind::cannot_withdraw, {}};
}

asio::awaitable<http_response> handle_ussd(route_services& s, http_request& req) {
  form_fields f;
  if (auto bad = read_fields(req.body, {"sessionId", "serviceCode", "phoneNumber", "text"}, f))
    co_return *bad;
  const std::string& session = f["sessionId"];
  const std::string& text = f["text"];
  if (session.empty()) co_return text_response(400, "empty field: sessionId");

  const auto& codes = s.cfg.ussd.service_codes;
  if (!codes.empty() && std::find(codes.begin(), codes.end(), f["serviceCode"]) == codes.end())
    co_return ussd_answer("END This service is not available on this code.");
  auto phone = domain::parse_msisdn(f["phoneNumber"]);
  if (!phone) co_return ussd_answer("END Sorry, this service is only for Kenyan mobile numbers.");

  // A retry of a request still being answered waits for that answer instead of acting twice.
  std::string answer;
  auto st = s.answers.claim(session, text, answer);
  for (int waited = 0; st == answer_cache::state::pending && waited < 500; ++waited) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
    st = s.answers.claim(session, text, answer);
  }
  if (st == answer_cache::state::answered) co_return ussd_answer(answer);
  if (st == answer_cache::state::pending) co_return ussd_answer(std::string(apology));

  // New requests only: a retry answered from the cache above does not count.
  if (auto v = s.ussd_per_phone.hit(phone->digits()); v != rate_limiter::verdict::allowed) {
    s.answers.abandon(session, text);
    s.metrics.limits_refused.child({"ussd_requests_per_minute"}).inc();
    if (v == rate_limiter::verdict::refused_first)
      spdlog::warn("ussd id={} number {} is over {} requests a minute; refused until the minute ends",
                   req.request_id, phone->digits(), s.cfg.limits.ussd_requests_per_minute);
    co_return ussd_answer("END Too many requests from this number. Please wait a minute and dial again.");
  }

  // Past ussd.max_in_flight, waiting would only make every answer late: say so at once.
  auto ticket = s.ussd_in_flight.try_enter();
  if (!ticket) {
    s.answers.abandon(session, text);
    s.metrics.ussd_shed.child({"in_flight"}).inc();
    co_return ussd_answer(std::string(busy));
  }
  // A change that cannot start by then is dropped whole (domain::write_shed).
  const auto by = std::chrono::steady_clock::now() + s.cfg.ussd.answer_within;

  if (text.empty()) s.metrics.ussd_sessions_started.inc();
  bool shed = false;
  try {
    // The facts are looked up once per session, so every replay of it sees the same ones.
    auto facts = s.sessions.find(session);
    if (!facts) {
      auto fresh = co_await s.applications.session_facts_for(*phone);
      s.sessions.put(session, fresh);
      facts = std::move(fresh);
    }
    auto r = s.menus.step(*facts, text);
    switch (r.to_perform) {
      case ussd::action::none:
        break;
      case ussd::action::create_account: {
        auto created = co_await s.accounts.create(*phone, domain::channel::ussd, by);
        r = s.menus.outcome_screen(r, to_result(created));
        break;
      }
      case ussd::action::reset_password: {
        auto reset = co_await s.accounts.reset(*phone, domain::channel::ussd, by);
        r = s.menus.outcome_screen(r, to_result(reset));
        break;
      }
      case ussd::action::save_profile_field:
        // The next screen is already in r; it assumes the save, so a failure must throw.
        co_await s.applications.save_field(*phone, r.field, r.value, by);
        break;
      case ussd::action::apply: {
        auto applied = co_await s.applications.apply(*phone, r.value, by);
        if (applied.result == domain::apply_outcome::kind::submitted) s.metrics.applications_created.inc();
        r = s.menus.outcome_screen(r, to_result(applied));
        break;
      }
      case ussd::action::withdraw: {
        auto withdrawn = co_await s.applications.withdraw(*phone, r.value, by);
        r = s.menus.outcome_screen(r, to_result(withdrawn));
        break;
      }
    }
    answer = (r.end ? "END " : "CON ") + r.text;
    spdlog::debug("ussd id={} screen={} end={}", req.request_id, r.where, r.end);
    s.sessions.note_screen(session, r.where);
    if (r.end) s.metrics.ussd_sessions_ended.child({r.where}).inc();
  } catch (const domain::write_shed&) {
    // Nothing was changed; the phone's retry is worked on afresh.
    s.answers.abandon(session, text);
    shed = true;
  } catch (...) {
    s.answers.abandon(session, text);
    throw;
  }
  if (shed) {
    s.metrics.ussd_shed.child({"deadline"}).inc();
    co_return ussd_answer(std::string(busy));
  }
  s.answers.put(session, text, answer);
  co_return ussd_answer(std::move(answer));
}

asio::awaitable<http_response> handle_sms(route_services& s, http_request& req) {
  form_fields f;
  if (auto bad = read_fields(req.body, {"from", "text", "id"}, f)) co_return *bad;
  if (f["id"].empty()) co_return text_response(400, "empty field: id");
  auto from = domain::parse_msisdn(f["from"]);
  if (!from) {
    // Nothing to answer and nothing a retry would change: acknowledge and note it.
    spdlog::warn("sms id={} from a number we cannot serve: {}", req.request_id,
                 domain::describe(from.error()));
    co_return text_response(200, "ignored: not a Kenyan mobile number");
  }
  if (f.count("to") && f["to"] != s.cfg.sms.shortcode)
    spdlog::warn("sms id={} addressed to {}, not {}; handled all the same", req.request_id,
                 f["to"], s.cfg.sms.shortcode);
  s.metrics.sms_received.child({std::string(sms::to_string(sms::parse_keyword(f["text"]).kw))}).inc();
  // Built before the co_await: GCC 12 miscompiles a braced temporary inside one.
  inbound_sms in{f["id"], *from, f["text"], f.count("linkId") ? f["linkId"] : std::string()};
  auto handled = co_await s.accounts.handle_sms(std::move(in));
  co_return text_response(200, handled == sms_handling::duplicate ? "duplicate" : "ok");
}

asio::awaitable<http_response> handle_dlr(route_services& s, http_request& req) {
  form_fields f;
  if (auto bad = read_fields(req.body, {"id", "status"}, f)) co_return *bad;
  const std::string& id = f["id"];
  const std::string& status = f["status"];
  if (id.empty()) co_return text_response(400, "empty field: id");
  std::optional<domain::delivery> state;
  switch (sms::map_dlr_status(status)) {
    case sms::delivery_state::sent: state = domain::delivery::sent; break;
    case sms::delivery_state::delivered: state = domain::delivery::delivered; break;
    case sms::delivery_state::failed: state = domain::delivery::failed; break;
    case sms::delivery_state::unknown: break;
  }
  if (!state) {
    // A status we do not know yet: acknowledged, so the aggregator does not repeat it forever.
    spdlog::warn("dlr id={} message={} has an unknown status; ignored", req.request_id, id);
    co_return text_response(200, "ignored: unknown status");
  }
  std::string reason = f.count("failureReason") ? f["failureReason"] : std::string();
  s.metrics.delivery_reports.child({std::string(sms::to_string(sms::map_dlr_status(status)))}).inc();
  auto now = s.clock.now();
  auto result = co_await sms::run_write(s.writes, [&] {
    return s.outbox.apply_delivery_report(id, *state, status, reason, now);
  });
  if (result == domain::report_result::kept)
    spdlog::info("dlr id={} for message {} not known (yet): kept", req.request_id, id);
  co_return text_response(200, "ok");
}

std::optional<std::int64_t> whole_number(const form_fields& f, const char* name) {
  auto it = f.find(name);
  if (it == f.end() || it->second.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    auto v = std::stoll(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

asio::awaitable<http_response> handle_ussd_event(route_services& s, http_request& req) {
  form_fields f;
  if (auto bad = read_fields(req.body, {"sessionId", "status"}, f)) co_return *bad;
  db::ussd_event e;
  e.session_id = f["sessionId"];
  e.status = f["status"].substr(0, 40);
  auto phone = domain::parse_msisdn(f.count("phoneNumber") ? f["phoneNumber"] : "");
  e.phone = phone ? phone->digits() : (f.count("phoneNumber") ? f["phoneNumber"].substr(0, 20) : "");
  e.service_code = f.count("serviceCode") ? f["serviceCode"].substr(0, 40) : "";
  e.input = f.count("input") ? f["input"].substr(0, 500) : "";
  e.last_response = f.count("lastAppResponse") ? f["lastAppResponse"].substr(0, 200) : "";
  e.error_message = f.count("errorMessage") ? f["errorMessage"].substr(0, 200) : "";
  e.cost = f.count("cost") ? f["cost"].substr(0, 40) : "";
  e.date = f.count("date") ? f["date"].substr(0, 40) : "";
  e.duration_ms = whole_number(f, "durationInMillis");
  e.hops = whole_number(f, "hopsCount");
  e.last_screen = s.sessions.last_screen(e.session_id);
  e.received_at = s.clock.now();
  co_await sms::run_write(s.writes, [&] { db::record_ussd_event(s.db, e); });
  s.metrics.ussd_session_events.child({e.status, e.last_screen.empty() ? "unknown" : e.last_screen}).inc();
  co_return text_response(200, "ok");
}

}  // namespace

void add_callback_routes(router& r, route_services& s) {
  route_options ussd_opts;
  ussd_opts.who = guard::callback;
  ussd_opts.content_types = {"application/x-www-form-urlencoded"};
  // The phone must show something: an internal failure is a polite END, not an HTTP error.
  ussd_opts.on_error = [](const http_request&) { return ussd_answer(std::string(apology)); };
  r.add("POST", "/callbacks/ussd",
        [&s](http_request& req) { return handle_ussd(s, req); }, ussd_opts);

  route_options sms_opts;
  sms_opts.who = guard::callback;
  sms_opts.content_types = {"application/x-www-form-urlencoded"};
  // A failure answers 500 (the default) so that the aggregator delivers the SMS again.
  r.add("POST", "/callbacks/sms", [&s](http_request& req) { return handle_sms(s, req); }, sms_opts);
  r.add("POST", "/callbacks/dlr", [&s](http_request& req) { return handle_dlr(s, req); }, sms_opts);
  r.add("POST", "/callbacks/ussd/events",
        [&s](http_request& req) { return handle_ussd_event(s, req); }, sms_opts);
}

}  // namespace cp2::gateway
