#include "gateway/applications_workflow.hpp"
#include "gateway/json_api.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <memory>

namespace cp2::gateway {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int export_page = 1000;  // rows fetched from the database per streamed chunk


json::object application_json(const domain::application& a) {
  return {{"ref", a.ref}, {"phone", a.phone}, {"vacancy", a.vacancy_code},
          {"status", domain::to_string(a.status)}, {"created_at", iso8601_eat(a.created_at)}};
}

// One CSV field: quoted when it holds a comma, quote or line break (RFC 4180). A leading
// = + - @ is prefixed with ' so a spreadsheet never runs a value as a formula.
std::string csv_field(const std::string& v) {
  std::string s = v;
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

constexpr const char* csv_header =
    "ref,phone,vacancy,status,created_at,exam,activity,role,venue,station,county,subcounty,"
    "full_name,national_id,kra_pin,home_county,workstation,tsc_number\r\n";

std::string csv_row(const db::application_listing& l) {
  const auto& a = l.app;
  const auto& p = l.profile;
  const std::string fields[] = {a.ref, a.phone, a.vacancy_code, std::string(domain::to_string(a.status)),
                                iso8601_eat(a.created_at), a.exam, a.activity, a.role, l.venue, a.station,
                                l.county, l.subcounty, p.full_name, p.national_id, p.kra_pin,
                                p.county, p.workstation, p.tsc_number};
  std::string line;
  for (const auto& f : fields) {
    if (!line.empty()) line += ',';
    line += csv_field(f);
  }
  return line + "\r\n";
}

std::optional<http_response> read_filter(const http_request& req, db::application_filter& f) {
  f.vacancy = req.query_value("vacancy");
  f.status = req.query_value("status");
  f.county = req.query_value("county");
  f.exam = req.query_value("exam");
  f.activity = req.query_value("activity");
  f.after = req.query_value("cursor");
  if (!f.status.empty() && !domain::parse_application_status(f.status))
    return json_error(400, "status: submitted, withdrawn, approved or rejected");
  return read_limit(req, f.limit);
}

asio::awaitable<http_response> list_applications(route_services& s, http_request& req) {
  db::application_filter f;
  if (auto bad = read_filter(req, f)) co_return *bad;
  if (req.accept.find("text/csv") != std::string::npos) {
    // The whole selection, a page at a time, as the client reads it.
    struct export_state {
      db::application_filter filter;
      bool header_sent = false;
      bool done = false;
    };
    auto state = std::make_shared<export_state>();
    state->filter = f;
    state->filter.limit = export_page;
    http_response r;
    r.content_type = "text/csv; charset=utf-8";
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"applications.csv\"");
    r.stream = [&s, state]() -> asio::awaitable<std::string> {
      if (state->done) co_return std::string();
      std::string chunk;
      if (!state->header_sent) {
        chunk = csv_header;
        state->header_sent = true;
      }
      auto rows = co_await s.applications.list_applications(state->filter);
      for (const auto& row : rows) chunk += csv_row(row);
      if (static_cast<int>(rows.size()) < export_page) state->done = true;
      else state->filter.after = rows.back().app.ref;
      co_return chunk;
    };
    co_return r;
  }
  const int wanted = f.limit;
  f.limit = wanted + 1;
  auto rows = co_await s.applications.list_applications(f);
  json::array items;
  for (int i = 0; i < static_cast<int>(rows.size()) && i < wanted; ++i)
    items.push_back(application_json(rows[static_cast<std::size_t>(i)].app));
  json::value next = nullptr;
  if (static_cast<int>(rows.size()) > wanted) next = rows[static_cast<std::size_t>(wanted - 1)].app.ref;
  co_return json_response(200, json::object{{"items", std::move(items)}, {"next", next}});
}

asio::awaitable<http_response> decide(route_services& s, http_request& req) {
  json::object body;
  if (auto bad = read_object(req.body, body)) co_return *bad;
  std::string status;
  if (auto bad = read_string(body, "status", status)) co_return *bad;
  auto to = domain::parse_application_status(status);
  if (!to || (*to != domain::application_status::approved && *to != domain::application_status::rejected))
    co_return json_error(422, "status: approved or rejected");
  auto out = co_await s.applications.decide(req.path_params["ref"], *to);
  using k = domain::decision_outcome::kind;
  switch (out.result) {
    case k::decided:
    case k::unchanged:
      co_return json_response(200, application_json(out.app));
    case k::not_found:
      co_return json_error(404, "no application with that reference");
    case k::withdrawn:
      co_return json_error(409, "the applicant withdrew this application");
    case k::full:
      co_return json_error(409, "the vacancy's slots are all approved already");
  }
  co_return json_error(500, "unexpected decision outcome");
}

}  // namespace

void add_application_api_routes(router& r, route_services& s) {
  route_options get_opts;
  get_opts.who = guard::admin;
  get_opts.on_error = api_internal_error;
  route_options patch_opts = get_opts;
  patch_opts.content_types = {"application/json"};
  r.add("GET", "/api/v1/applications", [&s](http_request& q) { return list_applications(s, q); }, get_opts);
  r.add("PATCH", "/api/v1/applications/{ref}", [&s](http_request& q) { return decide(s, q); }, patch_opts);
}

}  // namespace cp2::gateway
