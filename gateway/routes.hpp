#pragma once
// The routes of the aggregator's callbacks and of the portal API.

#include "config/config.hpp"

namespace cp2::ussd {
class engine;
}

namespace cp2::gateway {

class accounts_workflow;
class answer_cache;
class router;

/// What the route handlers use. Everything must outlive the server.
struct route_services {
  const config::config& cfg;
  accounts_workflow& accounts;
  const ussd::engine& menus;
  answer_cache& answers;
};

/// POST /callbacks/ussd and POST /callbacks/sms (SPEC 3.1, 3.2).
void add_callback_routes(router& r, route_services& s);

/// POST /api/v1/accounts, /api/v1/accounts/{phone}/password-reset, /api/v1/auth/login (SPEC 6).
void add_account_api_routes(router& r, route_services& s);

}  // namespace cp2::gateway
