#include "gateway/accounts_workflow.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/json_api.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace cp2::gateway {

namespace asio = boost::asio;
namespace json = boost::json;
using domain::account_service;

namespace {

json::object account_json(const domain::msisdn& phone) {
  return {{"username", phone.digits()}, {"phone", phone.digits()}};
}

asio::awaitable<http_response> create_account(route_services& s, http_request& req) {
  json::object body;
  if (auto bad = read_object(req.body, body)) co_return *bad;
  std::string text;
  if (auto bad = read_string(body, "phone", text)) co_return *bad;
  auto phone = domain::parse_msisdn(text);
  if (!phone) co_return json_error(422, "phone: " + std::string(domain::describe(phone.error())));
  auto r = co_await s.accounts.create(*phone, domain::channel::portal);
  if (r == account_service::create_result::busy)
    co_return json_error(503, "too many credential SMS right now; try again in a minute");
  if (r == account_service::create_result::exists)
    co_return json_error(409, "an account exists for this number; SMS PASSWORD to " +
                                  s.cfg.sms.shortcode + " for a new password");
  co_return json_response(201, account_json(*phone));
}

asio::awaitable<http_response> reset_password(route_services& s, http_request& req) {
  auto phone = domain::parse_msisdn(req.path_params["phone"]);
  if (!phone) co_return json_error(422, "phone: " + std::string(domain::describe(phone.error())));
  switch (co_await s.accounts.reset(*phone, domain::channel::portal)) {
    case account_service::reset_result::done:
      co_return json_response(202, json::object{{"status", "new password sent by SMS"}});
    case account_service::reset_result::no_account:
      co_return json_error(404, "no account for this number");
    case account_service::reset_result::limited:
      co_return json_error(429, "too many password resets for this number; try again later");
    case account_service::reset_result::busy:
      co_return json_error(503, "too many credential SMS right now; try again in a minute");
  }
  co_return json_error(500, "unexpected reset outcome");
}

asio::awaitable<http_response> login(route_services& s, http_request& req) {
  json::object body;
  if (auto bad = read_object(req.body, body)) co_return *bad;
  std::string username, password;
  if (auto bad = read_string(body, "username", username)) co_return *bad;
  if (auto bad = read_string(body, "password", password)) co_return *bad;
  const auto refused = [] { return json_error(401, "wrong username or password"); };
  // A client with too many failures is refused without a look: the same answer as a wrong
  // password, so the limit tells an attacker nothing about the accounts.
  if (s.login_per_client.over(req.remote_address)) {
    s.metrics.limits_refused.child({"login_failures_per_client"}).inc();
    co_return refused();
  }
  std::string phone;
  if (!co_await s.accounts.login(username, password, phone)) {
    if (s.login_per_client.hit(req.remote_address) == rate_limiter::verdict::refused_first)
      spdlog::warn("login id={} client {} is over {} failed logins in 15 minutes; refused for now",
                   req.request_id, req.remote_address, s.cfg.limits.login_failures_per_client);
    co_return refused();
  }
  co_return json_response(200, account_json(domain::parse_msisdn(phone).value()));
}

}  // namespace

void add_account_api_routes(router& r, route_services& s) {
  auto internal = api_internal_error;
  route_options json_only;
  json_only.who = guard::admin;
  json_only.content_types = {"application/json"};
  json_only.on_error = internal;
  route_options no_body;
  no_body.who = guard::admin;
  no_body.on_error = internal;
  r.add("POST", "/api/v1/accounts", [&s](http_request& q) { return create_account(s, q); }, json_only);
  r.add("POST", "/api/v1/accounts/{phone}/password-reset",
        [&s](http_request& q) { return reset_password(s, q); }, no_body);
  r.add("POST", "/api/v1/auth/login", [&s](http_request& q) { return login(s, q); }, json_only);
}

}  // namespace cp2::gateway
