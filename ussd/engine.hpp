#pragma once
// The USSD menus as a pure state machine (SPEC 3.1, 4.2, 4.3, 7). The aggregator sends the
// whole session so far in `text` ("1*1"); step() replays it from the main menu and answers
// the screen to show, or an action for the gateway to perform (which then asks
// outcome_screen() what to show). No I/O, no clock: the same input gives the same answer.

#include <string>
#include <string_view>
#include <vector>

namespace cp2::ussd {

/// What the menus need to know about the caller, looked up before a step.
struct caller {
  bool has_account = false;
  std::string phone_local;  ///< the number as people write it, e.g. 0712345678
};

/// Work with side effects that a screen asks for; the gateway performs it.
enum class action { none, create_account, reset_password };

/// How an action went, as far as the applicant needs to know.
enum class outcome { created, already_exists, reset_done, reset_limited, no_account, failed };

/// One answer to the aggregator.
struct reply {
  bool end = false;                ///< "END" (session over) rather than "CON"
  std::string text;                ///< the screen, without the CON/END prefix
  action to_perform = action::none;  ///< when not none, `text` is empty: perform, then ask
                                     ///< outcome_screen()
  std::string where;               ///< a stable name of the screen, for logs and metrics
};

/// Settings that show up in the texts.
struct engine_options {
  std::string shortcode = "22262";
  int resets_per_hour = 3;
};

/// The menu state machine.
/// Thread safety: const after construction; step() may run on many threads at once.
class engine {
public:
  explicit engine(engine_options options);

  /// Replays `text` (inputs joined with '*', empty on the first request) for `who`.
  reply step(const caller& who, std::string_view text) const;

  /// The END screen after `done` finished with `result`.
  reply outcome_screen(action done, outcome result) const;

  /// Every input token step() treats specially, for tests that walk all screens.
  static std::vector<std::string> navigation_tokens();

private:
  engine_options options_;
};

}  // namespace cp2::ussd
