#pragma once
// `cp2-gateway simulate`: a phone in the terminal. It drives a running gateway's
// /callbacks/ussd exactly as the aggregator does (SPEC §3.1), so operators can walk the menus
// before going live and tests can script whole sessions.

#include "config/config.hpp"

#include <iosfwd>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace cp2::gateway {

/// What the simulated phone dials and where it sends the callbacks.
struct simulate_options {
  std::string url = "http://127.0.0.1:8080";  ///< the gateway's root; /callbacks/ussd is appended
  std::string phone = "+254700000000";        ///< any form parse_msisdn accepts
  std::string service_code = "*384*22262#";
  std::string key;           ///< callbacks.secret, sent as ?key=; empty sends none
  std::string session_id;    ///< empty: "SIM-" and 16 random hex digits
  std::string network_code = "63902";
  /// When set, these inputs are played in order instead of reading the terminal; the session
  /// stops after the last one (or at END).
  std::optional<std::vector<std::string>> inputs;
  /// Print each reply read from `in` after the prompt, as a terminal would have shown it while
  /// typing: for input piped from a file.
  bool echo = false;
  long timeout_ms = 15'000;  ///< the aggregator waits about 15 s for an answer (SPEC §3.4)
};

/// The options for a gateway configured by `cfg`: its listen address (a wildcard host becomes
/// loopback; port 0 leaves `url` empty, since only the running gateway knows its port) and its
/// callbacks.secret.
simulate_options simulate_defaults(const config::config& cfg);

/// Splits `--inputs` text at commas: "1,1,Jane Moraa" gives {"1", "1", "Jane Moraa"};
/// "" gives none (just dial), "1,,2" has an empty input in the middle.
std::vector<std::string> split_inputs(const std::string& text);

/// `text` word-wrapped into a phone-shaped frame `width` characters wide inside.
std::string phone_screen(const std::string& text, std::size_t width = 28);

/// Runs one USSD session: dials, prints each screen (without CON/END) framed like a phone's,
/// reads a reply line from `in` (or takes the next of options.inputs), adds it to `text` with
/// '*' and posts again. An empty line is sent as an empty input, as a phone's Send with
/// nothing typed is; "q" quits without sending. Surrounding spaces are dropped.
/// Returns 0 at END, at the end of input, after "q" or after the last of options.inputs;
/// 1 when the gateway cannot be reached or answers anything but 200 with CON/END (one line
/// on `err` naming the URL and the status); 2 for a bad phone number or an empty URL.
int simulate_command(const simulate_options& options, std::istream& in, std::ostream& out,
                     std::ostream& err = std::cerr);

}  // namespace cp2::gateway
