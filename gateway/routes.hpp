#pragma once
// The routes of the aggregator's callbacks and of the portal API.

#include "config/config.hpp"

namespace boost::asio {
class thread_pool;
}

namespace cp2::domain {
class static_county_lookup;
class outbox_store;
class write_queue;
class clock;
}

namespace SQLite {
class Database;
}

namespace cp2::ussd {
class engine;
}

namespace cp2::gateway {

class accounts_workflow;
struct gateway_metrics;
class answer_cache;
class rate_limiter;
class applications_workflow;
class session_facts_cache;
class router;
class in_flight_limit;

/// What the route handlers use. Everything must outlive the server.
struct route_services {
  const config::config& cfg;
  accounts_workflow& accounts;
  const ussd::engine& menus;
  answer_cache& answers;
  boost::asio::thread_pool& db_pool;  ///< the only thread that touches `outbox` and `db`
  domain::write_queue& writes;        ///< changes, on db_pool's thread, sharing commits
  domain::outbox_store& outbox;
  applications_workflow& applications;
  session_facts_cache& sessions;
  const domain::static_county_lookup& counties;  ///< the reference list, for checks and GET
  gateway_metrics& metrics;
  SQLite::Database& db;  ///< only on db_pool: session events
  rate_limiter& ussd_per_phone;      ///< limits.ussd_requests_per_minute
  rate_limiter& login_per_client;    ///< limits.login_failures_per_client
  in_flight_limit& ussd_in_flight;   ///< ussd.max_in_flight
  const domain::clock& clock;        ///< the time of delivery reports and session events
};

/// POST /callbacks/ussd, /callbacks/sms, /callbacks/dlr and /callbacks/ussd/events
/// (SPEC 3.1–3.4).
void add_callback_routes(router& r, route_services& s);

/// POST /api/v1/accounts, /api/v1/accounts/{phone}/password-reset, /api/v1/auth/login (SPEC 6).
void add_account_api_routes(router& r, route_services& s);

/// GET /api/v1/applications (JSON or streamed CSV) and PATCH /api/v1/applications/{ref}.
void add_application_api_routes(router& r, route_services& s);

/// GET/PUT /api/v1/accounts/{phone}/profile, POST/GET /api/v1/vacancies, GET /api/v1/counties.
void add_vacancy_api_routes(router& r, route_services& s);

}  // namespace cp2::gateway
