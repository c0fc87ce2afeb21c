// USSD journeys as transcripts: what the applicant types, what the phone must show.

#include "domain/gsm7.hpp"
#include "ussd/engine.hpp"
#include "ussd/screen.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <set>

using namespace cp2::ussd;

namespace {

// One line of a transcript: the input typed (appended to the session's text), a fragment
// the screen must contain, and whether the session ends there.
struct line {
  std::string input;
  std::string expect;
  bool ends;
};

// Plays a transcript. An action is answered with `result`, as the gateway would after
// performing it; `performed` collects the actions asked for.
void play(const engine& e, const session_facts& who, const std::vector<line>& transcript,
          action_result::kind result = action_result::kind::failed,
          std::vector<action>* performed = nullptr) {
  // The first line is the dial (its input is ignored); later inputs join with '*'.
  std::string text;
  for (std::size_t i = 0; i < transcript.size(); ++i) {
    const line& l = transcript[i];
    if (i == 1) text = l.input;
    else if (i > 1) text += "*" + l.input;
    CAPTURE(text);
    auto r = e.step(who, text);
    if (r.to_perform != action::none) {
      if (performed) performed->push_back(r.to_perform);
      r = e.outcome_screen(r, action_result{result, {}});
    }
    CHECK_MESSAGE(r.text.find(l.expect) != std::string::npos, r.text);
    CHECK(r.end == l.ends);
  }
}

session_facts facts_for(bool has_account, const std::string& local = "0712345678") {
  session_facts f;
  f.has_account = has_account;
  f.phone_local = local;
  return f;
}

const session_facts newcomer = facts_for(false);
const session_facts member = facts_for(true);
const engine eng{engine_options{}};

}  // namespace

TEST_CASE("create account: a new number") {
  std::vector<action> done;
  SUBCASE("confirmed") {
    play(eng, newcomer,
         {{"", "1. Create account", false},
          {"1", "Create a CP2 account for 0712345678?", false},
          {"1", "will arrive by SMS", true}},
         action_result::kind::created, &done);
    REQUIRE(done.size() == 1);
    CHECK(done[0] == action::create_account);
  }
  SUBCASE("back, then main menu, then confirmed") {
    play(eng, newcomer,
         {{"", "1. Create account", false},
          {"1", "1. Confirm", false},
          {"0", "1. Create account", false},
          {"1", "0. Back", false},
          {"00", "1. Create account", false},
          {"1", "Create a CP2 account", false},
          {"1", "will arrive by SMS", true}},
         action_result::kind::created, &done);
    CHECK(done.size() == 1);
  }
  SUBCASE("created meanwhile (another channel won the race)") {
    play(eng, newcomer, {{"", "Create account", false}, {"1", "Confirm", false},
                         {"1", "SMS PASSWORD to 22262", true}},
         action_result::kind::already_exists);
  }
}

TEST_CASE("reset password: an existing account") {
  std::vector<action> done;
  SUBCASE("confirmed") {
    play(eng, member,
         {{"", "4. Reset password", false},
          {"4", "Get a new CP2 password?", false},
          {"1", "new CP2 password will arrive by SMS", true}},
         action_result::kind::reset_done, &done);
    REQUIRE(done.size() == 1);
    CHECK(done[0] == action::reset_password);
  }
  SUBCASE("over the hourly limit") {
    play(eng, member, {{"", "Reset password", false}, {"4", "Confirm", false},
                       {"1", "limit of new passwords (3 an hour, 10 a day)", true}},
         action_result::kind::reset_limited);
  }
  SUBCASE("a failure inside is an apology, not an error") {
    play(eng, member, {{"", "Reset password", false}, {"4", "Confirm", false},
                       {"1", "Sorry, something went wrong", true}},
         action_result::kind::failed);
  }
}

TEST_CASE("only options that work are offered") {
  CHECK(eng.step(newcomer, "").text.find("Reset password") == std::string::npos);
  CHECK(eng.step(member, "").text.find("Create account") == std::string::npos);
  // Without an account, Vacancies says how to get one.
  play(eng, newcomer, {{"", "2. Vacancies", false}, {"2", "You need a CP2 account to apply", true}});
}

TEST_CASE("bad input re-shows the menu with a short notice and never ends the session") {
  for (const char* bad : {"7", "x", "98", "0", "1a", "-1", "01", "999999999999", "#"}) {
    CAPTURE(bad);
    play(eng, newcomer, {{"", "Create account", false}, {bad, "Invalid choice.", false}});
  }
  // On an inner screen, the same.
  play(eng, newcomer, {{"", "Create account", false}, {"1", "Confirm", false},
                       {"5", "Invalid choice.", false}, {"1", "will arrive", true}},
       action_result::kind::created);
}

TEST_CASE("an invalid input earlier in the session changes nothing") {
  auto r = eng.step(newcomer, "9*1");
  CHECK(r.text.find("Create a CP2 account") != std::string::npos);
  CHECK(r.text.find("Invalid") == std::string::npos);
}

TEST_CASE("the same text gives the same answer: replay is deterministic") {
  for (const char* text : {"", "1", "1*0", "1*00*1", "x*1"}) {
    CAPTURE(text);
    auto a = eng.step(newcomer, text), b = eng.step(newcomer, text);
    CHECK(a.text == b.text);
    CHECK(a.end == b.end);
    CHECK(a.to_perform == b.to_perform);
  }
}

TEST_CASE("an action in the middle of a replay is never performed") {
  auto r = eng.step(newcomer, "1*1*1");
  CHECK(r.to_perform == action::none);
  CHECK(r.end);
}

TEST_CASE("every reachable screen fits 182 GSM-7 characters") {
  std::vector<std::string> tokens = {"1", "2", "3", "9", "x", ""};
  for (const auto& t : engine::navigation_tokens()) tokens.push_back(t);
  std::set<std::string> seen_screens;
  int visited = 0;
  for (const session_facts& who : {newcomer, member, facts_for(false, "0112345678")}) {
    std::deque<std::pair<std::string, int>> queue{{"", 0}};
    while (!queue.empty()) {
      auto [text, depth] = queue.front();
      queue.pop_front();
      auto r = eng.step(who, text);
      std::vector<reply> shown{r};
      if (r.to_perform != action::none && r.end)
        for (int o = 0; o <= static_cast<int>(action_result::kind::failed); ++o)
          shown.push_back(eng.outcome_screen(r, action_result{static_cast<action_result::kind>(o), {}}));
      for (const auto& s : shown) {
        if (s.text.empty()) continue;
        ++visited;
        if (!seen_screens.insert(s.text).second) continue;
        CAPTURE(text);
        CAPTURE(s.text);
        CHECK(s.text.size() <= max_screen_chars);
        CHECK(cp2::domain::is_gsm7(s.text));
        CHECK_FALSE(s.text.empty());
      }
      if (r.end || depth >= 5) continue;
      for (const auto& t : tokens) queue.push_back({text.empty() && depth == 0 ? t : text + "*" + t, depth + 1});
    }
  }
  CHECK(visited > 1000);
  CHECK(seen_screens.size() >= 12);
}

TEST_CASE("a long accented answer is cut between characters, so the screen stays GSM-7") {
  // Found by fuzz/ussd_replay_fuzz: "Workstation: a" and 59 of 'é' (2 bytes each) is longer than
  // a profile label may be, and cutting it by bytes split an 'é'.
  std::string accented;
  for (int i = 0; i < 59; ++i) accented += "\xC3\xA9";
  auto r = eng.step(member, "3*5*a" + accented + "*98");
  CAPTURE(r.text);
  CHECK(r.text.find("Workstation: a\xC3\xA9") != std::string::npos);
  CHECK(r.text.find("\xC3\xA9..") != std::string::npos);
  CHECK(r.text.size() <= max_screen_chars);
  CHECK(cp2::domain::is_gsm7(r.text));
}
