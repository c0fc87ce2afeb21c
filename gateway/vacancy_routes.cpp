#include "domain/vacancy.hpp"
#include "gateway/applications_workflow.hpp"
#include "gateway/json_api.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace cp2::gateway {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::object profile_json(const domain::profile& p) {
  json::object o;
  for (auto f : domain::profile_fields())
    o[domain::field_key(f)] = domain::field_ref(p, f);
  o["complete"] = domain::is_complete(p);
  return o;
}


asio::awaitable<http_response> get_profile(route_services& s, http_request& req) {
  auto phone = domain::parse_msisdn(req.path_params["phone"]);
  if (!phone) co_return json_error(422, "phone: " + std::string(domain::describe(phone.error())));
  auto facts = co_await s.applications.session_facts_for(*phone);
  if (!facts.has_account) co_return json_error(404, "no account for this number");
  co_return json_response(200, profile_json(facts.profile));
}

asio::awaitable<http_response> put_profile(route_services& s, http_request& req) {
  auto phone = domain::parse_msisdn(req.path_params["phone"]);
  if (!phone) co_return json_error(422, "phone: " + std::string(domain::describe(phone.error())));
  json::object body;
  if (auto bad = read_object(req.body, body)) co_return *bad;
  // Fields left out keep their value; every field given is checked first, then all are saved.
  auto p = co_await s.applications.profile(*phone);
  for (const auto& [key, value] : body) {
    if (key == "complete") continue;  // what GET adds; harmless to send back
    auto field = domain::field_from_key(key);
    if (!field) co_return json_error(422, std::string(key) + ": not a profile field");
    if (!value.is_string()) co_return json_error(422, std::string(key) + ": must be a string");
    auto normal = domain::normalise_field(*field, value.as_string());
    if (!normal) co_return json_error(422, std::string(key) + ": " + normal.error().message);
    std::string canonical = normal.value();
    if (*field == domain::profile_field::county) {
      auto county = s.counties.county(canonical);
      if (!county) co_return json_error(422, "county: not one of Kenya's 47 counties");
      canonical = *county;
    }
    domain::field_ref(p, *field) = canonical;
  }
  if (!co_await s.applications.put_profile(*phone, p)) co_return json_error(404, "no account for this number");
  co_return json_response(200, profile_json(p));
}

asio::awaitable<http_response> import_vacancies(route_services& s, http_request& req) {
  auto checked = co_await s.applications.check_csv(std::move(req.body), s.counties);
  if (!checked) {
    json::array errors;
    for (const auto& e : checked.error()) errors.push_back(json::object{{"row", e.row}, {"error", e.error}});
    co_return json_response(422, json::object{{"errors", std::move(errors)}});
  }
  auto counts = co_await s.applications.import(std::move(checked.value()));
  co_return json_response(200, json::object{{"imported", counts.imported}, {"updated", counts.updated}});
}

asio::awaitable<http_response> list_vacancies(route_services& s, http_request& req) {
  db::vacancy_filter f;
  f.exam = req.query_value("exam");
  f.activity = req.query_value("activity");
  f.venue = req.query_value("venue");
  f.role = req.query_value("role");
  f.county = req.query_value("county");
  f.subcounty = req.query_value("subcounty");
  f.after = req.query_value("cursor");
  if (auto open = req.query_value("open"); !open.empty()) {
    if (open != "true" && open != "false") co_return json_error(400, "open: true or false");
    f.open = open == "true";
  }
  if (auto bad = read_limit(req, f.limit)) co_return *bad;
  // One more than asked tells whether there is a next page.
  const int wanted = f.limit;
  f.limit = wanted + 1;
  auto rows = co_await s.applications.list_vacancies(f);
  json::array items;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < wanted; ++i) {
    const auto& v = rows[static_cast<std::size_t>(i)].v;
    items.push_back(json::object{{"code", v.code}, {"exam", v.exam}, {"activity", v.activity},
                                 {"venue", v.venue}, {"role", v.role}, {"county", v.county},
                                 {"subcounty", v.subcounty}, {"station", v.station},
                                 {"slots", v.slots}, {"description", v.description},
                                 {"opens_at", iso8601_eat(v.opens_at)},
                                 {"closes_at", iso8601_eat(v.closes_at)},
                                 {"open", rows[static_cast<std::size_t>(i)].open},
                                 {"applications", rows[static_cast<std::size_t>(i)].applications}});
  }
  json::value next = nullptr;
  if (static_cast<int>(rows.size()) > wanted) next = rows[static_cast<std::size_t>(wanted - 1)].v.code;
  co_return json_response(200, json::object{{"items", std::move(items)}, {"next", next}});
}

http_response counties_json(route_services& s) {
  json::array out;
  for (const auto& c : s.counties.counties()) {
    json::array subs;
    for (const auto& sub : c.subcounties) subs.push_back(json::string(sub));
    out.push_back(json::object{{"name", c.name}, {"subcounties", std::move(subs)}});
  }
  return json_response(200, out);
}

}  // namespace

void add_vacancy_api_routes(router& r, route_services& s) {
  route_options get_opts;
  get_opts.who = guard::admin;
  get_opts.on_error = api_internal_error;
  route_options json_body = get_opts;
  json_body.content_types = {"application/json"};
  route_options csv_body = get_opts;
  csv_body.content_types = {"text/csv"};
  csv_body.body_limit = 8 * 1024 * 1024;  // 20,000 rows of vacancies

  r.add("GET", "/api/v1/accounts/{phone}/profile", [&s](http_request& q) { return get_profile(s, q); }, get_opts);
  r.add("PUT", "/api/v1/accounts/{phone}/profile", [&s](http_request& q) { return put_profile(s, q); }, json_body);
  r.add("POST", "/api/v1/vacancies", [&s](http_request& q) { return import_vacancies(s, q); }, csv_body);
  r.add("GET", "/api/v1/vacancies", [&s](http_request& q) { return list_vacancies(s, q); }, get_opts);
  r.add("GET", "/api/v1/counties", [&s](http_request&) -> asio::awaitable<http_response> {
    co_return counties_json(s);
  }, get_opts);
}

}  // namespace cp2::gateway
