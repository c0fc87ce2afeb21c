#pragma once
// The gateway's metrics (SPEC 6 GET /metrics): what each one counts is in docs/operations.md.

#include "gateway/metrics.hpp"

#include <atomic>
#include <string>

namespace cp2::gateway {

/// Every metric the gateway exports, registered once.
/// Thread safety: the counters and gauges may be used from any thread.
struct gateway_metrics {
  explicit gateway_metrics(metrics_registry& r);

  metrics_registry& registry;
  metrics_registry::family<metrics_registry::counter>& http_requests;      ///< route, status
  metrics_registry::family<metrics_registry::histogram>& http_seconds;     ///< route
  metrics_registry::counter& ussd_sessions_started;
  metrics_registry::family<metrics_registry::counter>& ussd_sessions_ended;  ///< screen
  metrics_registry::family<metrics_registry::counter>& ussd_session_events;  ///< status, screen
  metrics_registry::counter& applications_created;
  metrics_registry::family<metrics_registry::counter>& sms_received;       ///< keyword
  metrics_registry::family<metrics_registry::counter>& sms_sent;           ///< outcome
  metrics_registry::family<metrics_registry::counter>& provider_failures;  ///< failure
  metrics_registry::counter& outbox_alarms;
  metrics_registry::family<metrics_registry::counter>& delivery_reports;   ///< state
  metrics_registry::counter& database_errors;
  metrics_registry::family<metrics_registry::counter>& limits_refused;    ///< limit
  metrics_registry::family<metrics_registry::counter>& ussd_shed;         ///< reason
  /// Counts one answered request in http_requests and http_seconds. Each thread keeps the
  /// series it has used, so a request costs no lock and no lookup by label values (those were
  /// 3-4% of the gateway's throughput in menu steps).
  void observe_http(const std::string& route, int status, double seconds);
  /// Refreshed on the database thread every few seconds; read when /metrics is rendered.
  std::atomic<double> outbox_depth{0};
  std::atomic<double> outbox_oldest_seconds{0};
};

}  // namespace cp2::gateway
