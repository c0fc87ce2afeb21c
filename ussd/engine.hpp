#pragma once
// The USSD menus as a pure state machine (SPEC 3.1, 4.2–4.5, 7). The aggregator sends the
// whole session so far in `text` ("1*2*3"); step() replays it from the main menu and answers
// the screen to show, and when the last input asks for one, an action for the gateway to
// perform. No I/O, no clock: the same facts and text give the same answer.
//
// Replay needs facts that stay put for the whole session, so the gateway looks them up at
// the session's first request and passes the same `session_facts` every time (see
// docs/ussd.md). Profile answers typed earlier in the session are applied to a working copy
// as the replay passes them; only the last input's action is performed.

#include "domain/applications.hpp"
#include "domain/catalog.hpp"
#include "domain/profile.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cp2::ussd {

/// What the menus know about the caller and the vacancies, fixed for one session.
struct session_facts {
  bool has_account = false;
  std::string phone_local;  ///< the number as people write it, e.g. 0712345678
  domain::profile profile;  ///< as stored when the session began
  std::vector<domain::application> applications;  ///< newest first
  std::shared_ptr<const domain::catalog> vacancies = std::make_shared<domain::catalog>();
  domain::unix_ms now = 0;  ///< when the session began: decides "may withdraw"
};

/// Work with side effects that an input asks for; the gateway performs it.
enum class action { none, create_account, reset_password, save_profile_field, apply, withdraw };

/// One answer to the aggregator.
struct reply {
  bool end = false;   ///< "END" (session over) rather than "CON"
  std::string text;   ///< the screen without the CON/END prefix; empty when an END action
                      ///< must be performed first (then ask outcome_screen())
  action to_perform = action::none;
  std::string where;  ///< a stable name of the screen, for logs and metrics
  // The action's arguments.
  domain::profile_field field = domain::profile_field::full_name;  ///< save_profile_field
  std::string value;  ///< save_profile_field: the canonical value; apply: vacancy code;
                      ///< withdraw: application reference
};

/// How an action went, as far as the applicant needs to know.
struct action_result {
  enum class kind {
    created, already_exists,                                   // create_account
    reset_done, reset_limited, no_account,                     // reset_password
    submitted, already_applied, conflict, closed, filled,      // apply
    incomplete_profile,                                        // apply
    withdrawn, cannot_withdraw,                                // withdraw
    busy,                                                      // a gateway-wide limit
    failed,                                                    // anything
  } result = kind::failed;
  domain::application app;  ///< apply: the new, existing or conflicting application
};

/// Settings that show up in the texts and lists.
struct engine_options {
  std::string shortcode = "22262";
  int resets_per_hour = 3;
  int credentials_per_day = 10;
  std::vector<std::string> counties;  ///< the 47 counties, for the profile's county list
  /// The most memory, roughly, kept for the vacancy levels and lists built from the newest
  /// catalog (see engine); 0 builds every screen at every step.
  std::size_t menu_cache_bytes = 16u << 20;
};

class menu_cache;

/// The menu state machine.
///
/// The vacancy levels and lists depend on the catalog alone, not on the caller, so they are
/// built once per catalog and screen and then shared by every session that replays them: up
/// to `menu_cache_bytes` for the newest catalog seen. A session that began with an older
/// catalog gets its screens built at each step.
///
/// Thread safety: step() and outcome_screen() may run on many threads at once.
class engine {
public:
  explicit engine(engine_options options);

  /// Replays `text` (inputs joined with '*', empty on the first request) for the caller.
  reply step(const session_facts& facts, std::string_view text) const;

  /// The END screen after the action `done` (from step()) finished with `result`.
  reply outcome_screen(const reply& done, const action_result& result) const;

  /// Roughly the memory the kept vacancy levels and lists hold now; 0 without a cache.
  std::size_t cached_screen_bytes() const;

  /// Every input token step() treats specially, for tests that walk all screens.
  static std::vector<std::string> navigation_tokens();

private:
  engine_options options_;
  std::shared_ptr<menu_cache> cache_;  // null when menu_cache_bytes is 0
};

}  // namespace cp2::ussd
