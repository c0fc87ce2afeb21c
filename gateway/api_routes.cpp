#include "gateway/accounts_workflow.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"

#include <boost/json.hpp>

namespace cp2::gateway {

namespace asio = boost::asio;
namespace json = boost::json;
using domain::account_service;

namespace {

http_response json_response(int status, const json::value& v) {
  http_response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json::serialize(v);
  return r;
}

// The body as a JSON object, or the error to answer.
std::optional<http_response> read_object(const std::string& body, json::object& out) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return json_error(400, "the body must be a JSON object");
  out = std::move(v.as_object());
  return std::nullopt;
}

// A string field, or the 422 naming it.
std::optional<http_response> read_string(const json::object& o, const char* name, std::string& out) {
  auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return json_error(422, std::string(name) + ": required, a string");
  out = std::string(v->as_string());
  return std::nullopt;
}

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
  }
  co_return json_error(500, "unexpected reset outcome");
}

asio::awaitable<http_response> login(route_services& s, http_request& req) {
  json::object body;
  if (auto bad = read_object(req.body, body)) co_return *bad;
  std::string username, password;
  if (auto bad = read_string(body, "username", username)) co_return *bad;
  if (auto bad = read_string(body, "password", password)) co_return *bad;
  std::string phone;
  if (!co_await s.accounts.login(username, password, phone))
    co_return json_error(401, "wrong username or password");
  co_return json_response(200, account_json(domain::parse_msisdn(phone).value()));
}

}  // namespace

void add_account_api_routes(router& r, route_services& s) {
  auto internal = [](const http_request& q) {
    return json_error(500, "internal error, request " + q.request_id);
  };
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
