#include "ussd/engine.hpp"

#include "ussd/screen.hpp"

#include <fmt/format.h>

#include <charconv>

namespace cp2::ussd {
namespace {

enum class screen_id { main, create_confirm, reset_confirm };

// A place in the menus: a screen and, for long lists, the page shown.
struct frame {
  screen_id id = screen_id::main;
  std::size_t page = 0;
};

// Where a choice leads.
struct target {
  enum class kind { push, perform } k = kind::push;
  screen_id next = screen_id::main;
  action act = action::none;
};

struct menu {
  std::string name;  // for logs and metrics
  std::string title;
  std::vector<std::string> labels;
  std::vector<target> targets;
  bool nav = true;  // "0. Back" and "00. Main menu"
};

constexpr std::string_view invalid_notice = "Invalid choice.";
constexpr std::string_view ended_text = "This session has ended. Please dial again.";

menu menu_for(screen_id id, const caller& who) {
  menu m;
  switch (id) {
    case screen_id::main:
      m.name = "main";
      m.title = "KNEC CP2";
      m.nav = false;
      if (!who.has_account) {
        m.title += ": apply for KNEC contracted work";
        m.labels.push_back("Create account");
        m.targets.push_back({target::kind::push, screen_id::create_confirm, action::none});
      } else {
        m.labels.push_back("Reset password");
        m.targets.push_back({target::kind::push, screen_id::reset_confirm, action::none});
      }
      break;
    case screen_id::create_confirm:
      m.name = "create_confirm";
      m.title = fmt::format(
          "Create a CP2 account for {}? Your username and password will come by SMS.",
          who.phone_local);
      m.labels.push_back("Confirm");
      m.targets.push_back({target::kind::perform, screen_id::main, action::create_account});
      break;
    case screen_id::reset_confirm:
      m.name = "reset_confirm";
      m.title = "Get a new CP2 password? It will come by SMS and replace the old one.";
      m.labels.push_back("Confirm");
      m.targets.push_back({target::kind::perform, screen_id::main, action::reset_password});
      break;
  }
  return m;
}

// A choice number as typed: digits only, no sign, no leading zero.
std::size_t choice_number(std::string_view token) {
  if (token.empty() || token.size() > 3 || token[0] == '0') return 0;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
  return ec == std::errc{} && p == token.data() + token.size() ? n : 0;
}

std::vector<std::string_view> split_inputs(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  while (true) {
    auto star = text.find('*');
    out.push_back(text.substr(0, star));
    if (star == std::string_view::npos) break;
    text = text.substr(star + 1);
  }
  return out;
}

}  // namespace

engine::engine(engine_options options) : options_(std::move(options)) {}

std::vector<std::string> engine::navigation_tokens() { return {"0", "00", "98"}; }

reply engine::step(const caller& who, std::string_view text) const {
  std::vector<frame> stack{frame{}};
  auto inputs = split_inputs(text);
  std::string notice;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool last = i + 1 == inputs.size();
    auto token = inputs[i];
    frame& top = stack.back();
    menu m = menu_for(top.id, who);
    auto pages = paginate(m.title, m.labels, m.nav);
    const page_layout& page = pages[std::min(top.page, pages.size() - 1)];
    notice.clear();

    if (token == "00") {
      stack.assign(1, frame{});
    } else if (token == "0" && stack.size() > 1) {
      stack.pop_back();
    } else if (token == "98" && page.more) {
      stack.push_back({top.id, top.page + 1});
    } else if (auto n = choice_number(token); n >= 1 && n <= page.count) {
      const target& t = m.targets[page.first + n - 1];
      if (t.k == target::kind::perform) {
        // An action ends the session, so it can only be the last input.
        if (!last) return {true, std::string(ended_text), action::none, "ended"};
        return {true, "", t.act, m.name};
      }
      stack.push_back({t.next, 0});
    } else {
      // Bad input re-shows the same screen; earlier in the replay it changed nothing.
      notice = invalid_notice;
    }
  }
  const frame& top = stack.back();
  menu m = menu_for(top.id, who);
  auto pages = paginate(m.title, m.labels, m.nav);
  const page_layout& page = pages[std::min(top.page, pages.size() - 1)];
  return {false, render_page(notice, m.title, m.labels, page, m.nav), action::none, m.name};
}

reply engine::outcome_screen(action done, outcome result) const {
  (void)done;
  switch (result) {
    case outcome::created:
      return {true, "Your CP2 account is being created. Your username and password will arrive by SMS shortly.",
              action::none, "created"};
    case outcome::already_exists:
      return {true,
              fmt::format("You already have a CP2 account; your username is your phone number. "
                          "For a new password, SMS PASSWORD to {}.",
                          options_.shortcode),
              action::none, "already_exists"};
    case outcome::reset_done:
      return {true, "Your new CP2 password will arrive by SMS shortly. The old one no longer works.",
              action::none, "reset_done"};
    case outcome::reset_limited:
      return {true,
              fmt::format("You have asked for {} new passwords in the last hour. Use the latest "
                          "one, or try again later.",
                          options_.resets_per_hour),
              action::none, "reset_limited"};
    case outcome::no_account:
      return {true, "This number has no CP2 account. Dial again and choose Create account.",
              action::none, "no_account"};
    case outcome::failed:
      break;
  }
  return {true, "Sorry, something went wrong. Please try again in a few minutes.", action::none,
          "failed"};
}

}  // namespace cp2::ussd
