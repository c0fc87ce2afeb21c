#include "gateway/gateway_metrics.hpp"

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

}  // namespace cp2::gateway
