#include "gateway/applications_workflow.hpp"

#include "sms/async.hpp"

#include <boost/asio/thread_pool.hpp>

#include <optional>

namespace cp2::gateway {

namespace asio = boost::asio;
using sms::run_on;
using sms::run_write;

applications_workflow::applications_workflow(asio::thread_pool& db_pool,
                                             domain::write_queue& writes,
                                             asio::thread_pool& cpu_pool,
                                             db::sqlite_application_store& store,
                                             domain::application_service& service,
                                             db::sqlite_vacancy_store& vacancies,
                                             catalog_holder& catalog, const domain::clock& clock,
                                             std::function<void()> outbox_changed,
                                             asio::thread_pool& read_pool,
                                             db::sqlite_application_store& read_store)
    : db_pool_(db_pool), writes_(writes), cpu_pool_(cpu_pool), store_(store), service_(service), vacancies_(vacancies),
      catalog_(catalog), clock_(clock), outbox_changed_(std::move(outbox_changed)),
      read_pool_(read_pool), read_store_(read_store) {}

asio::awaitable<ussd::session_facts> applications_workflow::session_facts_for(domain::msisdn phone) {
  auto facts = co_await run_on(read_pool_, [&] {
    ussd::session_facts f;
    read_store_.in_read_transaction([&] {
      f.has_account = read_store_.has_account(phone.digits());
      if (f.has_account) {
        f.profile = read_store_.find_profile(phone.digits());
        f.applications = read_store_.list_for(phone.digits());
      }
    });
    return f;
  });
  facts.phone_local = phone.local();
  facts.vacancies = catalog_.current();
  facts.now = clock_.now();
  co_return facts;
}

asio::awaitable<void> applications_workflow::save_field(domain::msisdn phone,
                                                        domain::profile_field field,
                                                        std::string value,
                                                        domain::write_queue::deadline by) {
  co_await run_write(writes_, [&] { service_.save_field(phone, field, value); }, by);
}

asio::awaitable<domain::profile> applications_workflow::profile(domain::msisdn phone) {
  co_return co_await run_on(db_pool_, [&] { return service_.get_profile(phone); });
}

asio::awaitable<bool> applications_workflow::put_profile(domain::msisdn phone, domain::profile p) {
  co_return co_await run_write(writes_, [&] {
    bool ok = false;
    store_.in_transaction([&] {
      if (!store_.has_account(phone.digits())) return;
      store_.save_profile(phone.digits(), p, clock_.now());
      ok = true;
    });
    return ok;
  });
}

asio::awaitable<domain::apply_outcome> applications_workflow::apply(
    domain::msisdn phone, std::string code, domain::write_queue::deadline by) {
  auto out = co_await run_write(writes_, [&] { return service_.apply(phone, code); }, by);
  if (out.result == domain::apply_outcome::kind::submitted) outbox_changed_();
  co_return out;
}

asio::awaitable<domain::withdraw_result> applications_workflow::withdraw(
    domain::msisdn phone, std::string ref, domain::write_queue::deadline by) {
  co_return co_await run_write(writes_, [&] { return service_.withdraw(phone, ref); }, by);
}

asio::awaitable<db::import_counts> applications_workflow::import(std::vector<domain::vacancy> all) {
  auto counts = co_await run_on(db_pool_, [&] { return vacancies_.upsert(all, clock_.now()); });
  catalog_.rebuild();
  co_return counts;
}

asio::awaitable<domain::result<std::vector<domain::vacancy>, std::vector<domain::import_row_error>>>
applications_workflow::check_csv(std::string text, const domain::county_lookup& counties) {
  // In an optional because co_spawn needs a result it can default-construct.
  auto checked = co_await run_on(cpu_pool_, [&] {
    return std::optional(domain::validate_vacancy_csv(text, counties));
  });
  co_return std::move(*checked);
}

asio::awaitable<std::vector<db::vacancy_listing>> applications_workflow::list_vacancies(
    db::vacancy_filter f) {
  co_return co_await run_on(db_pool_, [&] { return vacancies_.list(f, clock_.now()); });
}

asio::awaitable<std::vector<db::application_listing>> applications_workflow::list_applications(
    db::application_filter f) {
  co_return co_await run_on(db_pool_, [&] { return store_.list_all(f); });
}

asio::awaitable<domain::decision_outcome> applications_workflow::decide(
    std::string ref, domain::application_status to) {
  auto out = co_await run_write(writes_, [&] { return service_.decide(ref, to); });
  if (out.notified) outbox_changed_();
  if (out.now_filled) catalog_.rebuild();
  co_return out;
}

std::optional<ussd::session_facts> session_facts_cache::find(const std::string& session) {
  std::lock_guard lock(mu_);
  auto* e = entries_.find(session, clock::now());
  if (!e) return std::nullopt;
  return e->facts;
}

void session_facts_cache::note_screen(const std::string& session, const std::string& screen) {
  std::lock_guard lock(mu_);
  // Noting a screen keeps the session's facts alive as long as it goes on.
  auto now = clock::now();
  if (auto* e = entries_.find(session, now)) entries_.put(session, entry{std::move(e->facts), screen}, now);
}

std::string session_facts_cache::last_screen(const std::string& session) {
  std::lock_guard lock(mu_);
  auto* e = entries_.find(session, clock::now());
  return e ? e->last_screen : std::string();
}

void session_facts_cache::put(const std::string& session, ussd::session_facts facts) {
  auto now = clock::now();
  std::lock_guard lock(mu_);
  entries_.put(session, entry{std::move(facts), {}}, now);
}

}  // namespace cp2::gateway
