#include "gateway/gateway_metrics.hpp"

#include <string>
#include <vector>

namespace cp2::gateway {

gateway_metrics::gateway_metrics(metrics_registry& r)
    : registry(r),
      http_requests(r.counter_family("cp2_http_requests_total", "HTTP requests answered, by route pattern and status.",
                                     {"route", "status"})),
      http_seconds(r.histogram_family("cp2_http_request_duration_seconds",
                                      "Time from a request's header to its answer, by route pattern.", {"route"})),
      ussd_sessions_started(r.counter_family("cp2_ussd_sessions_started_total",
                                             "USSD sessions begun (first request, empty text).").child()),
      ussd_sessions_ended(r.counter_family("cp2_ussd_sessions_ended_total",
                                           "USSD sessions the gateway ended with END, by the screen shown.",
                                           {"screen"})),
      ussd_session_events(r.counter_family("cp2_ussd_session_events_total",
                                           "Session end events from the aggregator, by status and the last "
                                           "screen we showed (drop-off).",
                                           {"status", "screen"})),
      applications_created(r.counter_family("cp2_applications_created_total",
                                            "Applications submitted (new references).").child()),
      sms_received(r.counter_family("cp2_sms_received_total", "Incoming SMS handled, by keyword.", {"keyword"})),
      sms_sent(r.counter_family("cp2_sms_send_outcomes_total",
                                "Outbound send attempts by outcome: accepted, retried, failed.", {"outcome"})),
      provider_failures(r.counter_family("cp2_provider_failures_total",
                                         "Failed send attempts by failure kind.", {"failure"})),
      outbox_alarms(r.counter_family("cp2_outbox_alarms_total",
                                     "Alarms raised by the outbox (provider problems, messages past sms.max_age).")
                        .child()),
      delivery_reports(r.counter_family("cp2_delivery_reports_total", "Delivery reports received, by state.",
                                        {"state"})),
      database_errors(r.counter_family("cp2_database_errors_total",
                                       "Requests that failed on a database error (busy, locked, full, read-only).")
                          .child()),
      limits_refused(r.counter_family("cp2_limits_refused_total",
                                      "Requests refused by an abuse limit, by limit.", {"limit"})),
      ussd_shed(r.counter_family("cp2_ussd_shed_total",
                                 "USSD requests answered 'busy, try again' because the gateway was "
                                 "overloaded, by reason: in_flight (over ussd.max_in_flight) or "
                                 "deadline (the change waited past ussd.answer_within; not made).",
                                 {"reason"})) {
  r.gauge_callback("cp2_outbox_depth", "Outbound SMS not yet accepted or failed (queued or sending).",
                   [this] { return outbox_depth.load(); });
  r.gauge_callback("cp2_outbox_oldest_age_seconds", "Age of the oldest outbound SMS not yet accepted or failed.",
                   [this] { return outbox_oldest_seconds.load(); });
}

void gateway_metrics::observe_http(const std::string& route, int status, double seconds) {
  // A handful of routes and statuses per thread: a short list beats a map. `owner` keeps two
  // gateways in one process (the tests) from sharing series; a thread outlives no gateway whose
  // requests it served, so no entry outlives its registry.
  struct series {
    const gateway_metrics* owner;
    std::string route;
    int status;
    metrics_registry::counter* requests;
    metrics_registry::histogram* seconds;
  };
  thread_local std::vector<series> used;
  for (const auto& s : used) {
    if (s.owner == this && s.status == status && s.route == route) {
      s.requests->inc();
      s.seconds->observe(seconds);
      return;
    }
  }
  auto& requests = http_requests.child({route, std::to_string(status)});
  auto& histogram = http_seconds.child({route});
  requests.inc();
  histogram.observe(seconds);
  used.push_back({this, route, status, &requests, &histogram});
}

}  // namespace cp2::gateway
