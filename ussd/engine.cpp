#include "ussd/engine.hpp"

#include "ussd/screen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace cp2::ussd {
namespace {

using domain::profile_field;

enum class screen_id {
  main,
  create_confirm,
  reset_confirm,
  vac_gate,       // "complete your profile first"
  vac_level,      // one of the six narrowing levels
  vac_list,       // the vacancies at the end of a path
  vac_detail,     // one vacancy, with Apply
  prompt,         // free text for one profile field
  county_pick,    // the profile's county, from the list
  profile_menu,   // the fields and their values
  apps_list,
  app_detail,
  withdraw_confirm,
};

// A place in the menus, with what that screen is about.
struct frame {
  screen_id id = screen_id::main;
  std::size_t page = 0;
  domain::catalog_path path;  // vac_level, vac_list
  std::string key;            // vac_detail: vacancy code; app_detail, withdraw_confirm: reference
  profile_field field = profile_field::full_name;  // prompt, county_pick
  bool guided = false;  // asked on the way to the vacancies: go on to the next missing field
};

// Where a choice leads.
struct target {
  // descend: one level down the vacancy levels, to the current path plus the chosen choice;
  // built only when chosen, so a level's menu copies no path per choice.
  enum class kind { push, descend, perform, save, end } k = kind::push;
  frame next;                 // push
  action act = action::none;  // perform
  std::string value;          // perform: its argument; save: the field's value
  std::string end_text;       // end
};

struct menu {
  std::string name;
  std::string title;
  std::vector<std::string> labels;
  std::vector<target> targets;
  bool nav = true;     // "0. Back" and "00. Main menu"
  bool prompt = false; // free text: any input but 0 and 00 is an answer
};

// A menu with its pages laid out: all that a screen needs, immutable once built.
struct laid_out {
  menu m;  // its labels cut to fit, as paginate left them
  std::vector<page_layout> pages;
  std::vector<std::string> choices;  // vac_level: the catalog's names of the choices, uncut
};

// Roughly the memory one cached screen holds.
std::size_t footprint(const std::string& key, const laid_out& s) {
  std::size_t n = sizeof(laid_out) + 64 + key.capacity() + s.m.name.capacity() + s.m.title.capacity() +
                  s.pages.size() * sizeof(page_layout);
  for (const auto& l : s.m.labels) n += sizeof l + l.capacity();
  for (const auto& t : s.m.targets)
    n += sizeof t + t.next.key.capacity() + t.value.capacity() + t.end_text.capacity() +
         t.next.path.size() * sizeof(std::string);
  for (const auto& c : s.choices) n += sizeof c + c.capacity();
  return n;
}

constexpr std::string_view invalid_notice = "Invalid choice.";
constexpr std::string_view ended_text = "This session has ended. Please dial again.";

// The room a title has on a screen with `choices` short choices (e.g. "1. Apply").
std::string fit(std::string text, std::size_t choices_chars) {
  const std::size_t budget =
      max_screen_chars - notice_room - choices_chars - std::string_view("\n0. Back\n00. Main menu").size();
  return shorten(std::move(text), budget);
}

std::string format_date(domain::unix_ms t) {
  using namespace std::chrono;
  // Dates are shown in East Africa Time (UTC+3), as KNEC and applicants read them.
  auto tp = sys_time<milliseconds>(milliseconds(t + 3 * 3'600'000));
  year_month_day ymd{floor<days>(tp)};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{} {} {}", static_cast<unsigned>(ymd.day()),
                     months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()));
}

frame at(screen_id id) {
  frame fr;
  fr.id = id;
  return fr;
}

frame ask(profile_field f, bool guided) {
  frame fr;
  fr.id = f == profile_field::county ? screen_id::county_pick : screen_id::prompt;
  fr.field = f;
  fr.guided = guided;
  return fr;
}

frame vacancies_root() {
  frame fr;
  fr.id = screen_id::vac_level;
  return fr;
}

const domain::application* find_app(const session_facts& facts, const std::string& ref) {
  for (const auto& a : facts.applications)
    if (a.ref == ref) return &a;
  return nullptr;
}

const char* level_title(std::size_t depth) {
  static constexpr const char* titles[] = {"Choose the examination:", "Choose the activity:",
                                           "Choose the venue:",       "Choose the role:",
                                           "Choose the county:",      "Choose the sub-county:"};
  return titles[std::min<std::size_t>(depth, 5)];
}

reply make_reply(bool end, std::string text, action act, std::string where) {
  reply r;
  r.end = end;
  r.text = std::move(text);
  r.to_perform = act;
  r.where = std::move(where);
  return r;
}

}  // namespace

// The vacancy levels and lists of one catalog, the newest seen, shared by every session that
// replays them. A lock around a lookup costs far less than building a list of vacancies again.
class menu_cache {
public:
  explicit menu_cache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The screen `key` of catalog `c`, or null: not built yet, or `c` is not the catalog cached.
  std::shared_ptr<const laid_out> find(const std::shared_ptr<const domain::catalog>& c,
                                       const std::string& key) const {
    std::lock_guard lock(mu_);
    if (c != catalog_) return nullptr;
    auto it = screens_.find(key);
    return it == screens_.end() ? nullptr : it->second;
  }

  // Keeps `screen` as `key` of catalog `c`. A catalog built no earlier than the one cached
  // takes its place, with none of its screens; an older one's screens are not kept. Past
  // max_bytes nothing more is kept until the next catalog. (built_at is the wall clock: should
  // it step back, a rebuilt catalog goes uncached until a later rebuild. Slower, never wrong.)
  void keep(const std::shared_ptr<const domain::catalog>& c, std::string key,
            std::shared_ptr<const laid_out> screen) {
    const std::size_t bytes = footprint(key, *screen);
    // Declared before the lock, so that the old catalog and its screens are freed after it.
    std::shared_ptr<const domain::catalog> old_catalog;
    std::unordered_map<std::string, std::shared_ptr<const laid_out>> old_screens;
    std::lock_guard lock(mu_);
    if (c != catalog_) {
      if (catalog_ && c->built_at() < catalog_->built_at()) return;
      old_catalog = std::exchange(catalog_, c);
      old_screens.swap(screens_);
      bytes_ = 0;
    }
    if (bytes_ + bytes > max_bytes_) return;
    if (screens_.emplace(std::move(key), std::move(screen)).second) bytes_ += bytes;
  }

  std::size_t bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }

private:
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::shared_ptr<const domain::catalog> catalog_;
  std::unordered_map<std::string, std::shared_ptr<const laid_out>> screens_;
  std::size_t bytes_ = 0;
};

namespace {

class replay {
public:
  replay(const engine_options& o, const session_facts& f, menu_cache* cache)
      : opts_(o), facts_(f), cache_(cache), profile_(f.profile) {}

  // The menu of `fr` laid out in pages: a vacancy level or list from the cache when it is
  // there, any other screen built now.
  std::shared_ptr<const laid_out> layout(const frame& fr) const {
    std::string key;
    if (cache_) {
      key = cache_key(fr);
      if (!key.empty())
        if (auto hit = cache_->find(facts_.vacancies, key)) return hit;
    }
    auto built = std::make_shared<laid_out>();
    built->m = menu_for(fr);
    if (fr.id == screen_id::vac_level) built->choices = built->m.labels;
    built->pages = paginate(built->m.title, built->m.labels, built->m.nav);
    if (!key.empty()) cache_->keep(facts_.vacancies, std::move(key), built);
    return built;
  }

  menu menu_for(const frame& fr) const {
    menu m;
    auto push = [&](std::string label, frame next) {
      m.labels.push_back(std::move(label));
      m.targets.push_back({target::kind::push, std::move(next), action::none, {}, {}});
    };
    auto perform = [&](std::string label, action act, std::string value) {
      m.labels.push_back(std::move(label));
      m.targets.push_back({target::kind::perform, {}, act, std::move(value), {}});
    };
    switch (fr.id) {
      case screen_id::main:
        m.name = "main";
        m.nav = false;
        if (!facts_.has_account) {
          m.title = "KNEC CP2: apply for KNEC contracted work";
          push("Create account", at(screen_id::create_confirm));
          m.labels.push_back("Vacancies");
          m.targets.push_back({target::kind::end, {}, action::none, {},
                               fmt::format("You need a CP2 account to apply. Dial again and choose "
                                           "Create account, or SMS REGISTER to {}.",
                                           opts_.shortcode)});
        } else {
          m.title = "KNEC CP2";
          push("Vacancies", domain::is_complete(profile_) ? vacancies_root() : at(screen_id::vac_gate));
          push("My applications", at(screen_id::apps_list));
          push("My profile", at(screen_id::profile_menu));
          push("Reset password", at(screen_id::reset_confirm));
        }
        break;
      case screen_id::create_confirm:
        m.name = "create_confirm";
        m.title = fmt::format(
            "Create a CP2 account for {}? Your username and password will come by SMS.",
            facts_.phone_local);
        perform("Confirm", action::create_account, "");
        break;
      case screen_id::reset_confirm:
        m.name = "reset_confirm";
        m.title = "Get a new CP2 password? It will come by SMS and replace the old one.";
        perform("Confirm", action::reset_password, "");
        break;
      case screen_id::vac_gate:
        m.name = "vacancies_profile_gate";
        m.title = "Before you apply, complete your profile: name, ID number, KRA PIN, county and "
                  "workstation.";
        if (auto missing = domain::first_missing(profile_)) push("Continue", ask(*missing, true));
        else push("Continue", vacancies_root());
        break;
      case screen_id::vac_level: {
        m.name = fmt::format("vacancies_level_{}", fr.path.size());
        auto choices = facts_.vacancies->choices(fr.path);
        if (choices.empty()) {
          m.title = fr.path.empty() ? "There are no open vacancies now. Please check again later."
                                    : "These vacancies are no longer open.";
          break;
        }
        m.title = level_title(fr.path.size());
        m.labels = std::move(choices);
        m.targets.assign(m.labels.size(), target{target::kind::descend, {}, action::none, {}, {}});
        break;
      }
      case screen_id::vac_list: {
        m.name = "vacancies_list";
        auto list = facts_.vacancies->vacancies(fr.path);
        m.title = list.empty() ? "These vacancies are no longer open." : "Choose a vacancy:";
        m.labels.reserve(list.size());
        m.targets.reserve(list.size());
        for (const auto* v : list) {
          frame next;
          next.id = screen_id::vac_detail;
          next.key = v->code;
          // Built by hand: a long list formats one label per vacancy at every step past it.
          std::string label;
          label.reserve(v->station.size() + 16);
          label.append(v->station).append(" (").append(std::to_string(v->slots)).append(" posts)");
          push(std::move(label), std::move(next));
        }
        break;
      }
      case screen_id::vac_detail: {
        m.name = "vacancy_detail";
        const auto* v = facts_.vacancies->find(fr.key);
        if (!v) {
          m.title = "This vacancy is no longer open.";
          break;
        }
        // The deadline first: with long station names the end of the text is cut.
        std::string text = fmt::format("Apply by {}, {} posts. {} at {}, {}. {} {}.",
                                       format_date(v->closes_at - 1), v->slots, v->role, v->station,
                                       v->subcounty, v->exam, v->activity);
        if (!v->description.empty()) text += " " + v->description;
        m.title = fit(text, std::string_view("\n1. Apply").size());
        perform("Apply", action::apply, v->code);
        break;
      }
      case screen_id::prompt:
        m.name = fmt::format("profile_{}", domain::field_key(fr.field));
        m.prompt = true;
        if (fr.field == profile_field::tsc_number) {
          m.title = "Enter your TSC number (optional):";
          m.labels.push_back("I have none");
          m.targets.push_back({target::kind::save, {}, action::none, "", {}});
        } else {
          m.title = std::string(domain::field_prompt(fr.field));
        }
        break;
      case screen_id::county_pick:
        m.name = "profile_county";
        m.title = "Choose your home county:";
        for (const auto& c : opts_.counties) {
          m.labels.push_back(c);
          m.targets.push_back({target::kind::save, {}, action::none, c, {}});
        }
        break;
      case screen_id::profile_menu:
        m.name = "profile";
        m.title = "Your profile. Choose one to change:";
        for (auto f : domain::profile_fields()) {
          const auto& value = domain::field_ref(profile_, f);
          push(fmt::format("{}: {}", domain::field_label(f), value.empty() ? "-" : value), ask(f, false));
        }
        break;
      case screen_id::apps_list:
        m.name = "applications";
        if (facts_.applications.empty()) {
          m.title = "You have no applications yet.";
          break;
        }
        m.title = "Your applications:";
        for (const auto& a : facts_.applications) {
          frame next;
          next.id = screen_id::app_detail;
          next.key = a.ref;
          push(fmt::format("{} {} {}: {}", a.ref, a.exam, a.role, domain::to_string(a.status)), std::move(next));
        }
        break;
      case screen_id::app_detail: {
        m.name = "application_detail";
        const auto* a = find_app(facts_, fr.key);
        if (!a) {
          m.title = "This application was not found.";
          break;
        }
        bool may_withdraw = domain::is_active(a->status) && facts_.now < a->closes_at;
        m.title = fit(fmt::format("{}: {} {}, {} at {}. Status: {}.", a->ref, a->exam, a->activity,
                                  a->role, a->station, domain::to_string(a->status)),
                      may_withdraw ? std::string_view("\n1. Withdraw").size() : 0);
        if (may_withdraw) {
          frame next;
          next.id = screen_id::withdraw_confirm;
          next.key = a->ref;
          push("Withdraw", std::move(next));
        }
        break;
      }
      case screen_id::withdraw_confirm:
        m.name = "withdraw_confirm";
        m.title = fmt::format("Withdraw application {}? You may apply again while vacancies are open.",
                              fr.key);
        perform("Confirm", action::withdraw, fr.key);
        break;
    }
    return m;
  }

  // Stores a profile answer in the working copy and moves to the screen after it.
  void saved(profile_field f, std::string value, std::string& notice) {
    domain::field_ref(profile_, f) = std::move(value);
    frame answered = stack_.back();
    if (answered.guided) {
      if (auto next = domain::first_missing(profile_)) stack_.push_back(ask(*next, true));
      else stack_.push_back(vacancies_root());
    } else {
      stack_.pop_back();  // back to the profile
      notice = "Saved.";
    }
  }

  reply run(std::string_view text) {
    auto inputs = split(text);
    std::string notice;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const bool last = i + 1 == inputs.size();
      const std::string token(inputs[i]);
      frame top = stack_.back();
      const auto screen = layout(top);
      const menu& m = screen->m;
      const page_layout& page = screen->pages[std::min(top.page, screen->pages.size() - 1)];
      notice.clear();

      if (token == "00") {
        stack_.assign(1, frame{});
        continue;
      }
      if (token == "0" && stack_.size() > 1) {
        stack_.pop_back();
        continue;
      }
      if (token == "98" && page.more) {
        frame next = top;
        next.page = top.page + 1;
        stack_.push_back(next);
        continue;
      }
      const target* chosen = nullptr;
      if (auto n = choice_number(token); n >= 1 && n <= page.count) chosen = &m.targets[page.first + n - 1];

      std::optional<std::string> value;
      profile_field field = top.field;
      if (m.prompt && !chosen) {
        auto r = domain::normalise_field(top.field, token);
        if (!r) {
          notice = r.error().message;
          continue;
        }
        value = r.value();
      } else if (chosen && chosen->k == target::kind::save) {
        value = chosen->value;
      }
      if (value) {
        saved(field, *value, notice);
        if (last) {
          reply r = render(notice);
          r.to_perform = action::save_profile_field;
          r.field = field;
          r.value = *value;
          return r;
        }
        continue;
      }
      if (!chosen) {
        notice = invalid_notice;
        continue;
      }
      switch (chosen->k) {
        case target::kind::push:
          stack_.push_back(chosen->next);
          break;
        case target::kind::descend: {
          // The choice as the catalog names it: paginate may have shortened its label.
          frame next;
          next.path = top.path;
          next.path.push_back(screen->choices.at(static_cast<std::size_t>(chosen - m.targets.data())));
          next.id = next.path.size() == domain::catalog_depth ? screen_id::vac_list : screen_id::vac_level;
          stack_.push_back(std::move(next));
          break;
        }
        case target::kind::perform: {
          // An action ends the session, so it can only be the last input.
          if (!last) return make_reply(true, std::string(ended_text), action::none, "ended");
          reply r = make_reply(true, "", chosen->act, m.name);
          r.value = chosen->value;
          return r;
        }
        case target::kind::end:
          if (!last) return make_reply(true, std::string(ended_text), action::none, "ended");
          return make_reply(true, chosen->end_text, action::none, m.name + "_end");
        case target::kind::save:
          break;  // handled above
      }
    }
    return render(notice);
  }

private:
  reply render(const std::string& notice) const {
    const frame& top = stack_.back();
    const auto screen = layout(top);
    const menu& m = screen->m;
    const page_layout& page = screen->pages[std::min(top.page, screen->pages.size() - 1)];
    return make_reply(false, render_page(notice, m.title, m.labels, page, m.nav), action::none, m.name);
  }

  // The cache's name for a level or list screen, empty for the others. A vacancy's own screen
  // is not kept: shown once or twice a session, at the end of it, it would hold more memory
  // than it saves time. Each step of a path is written with its length, so no two paths share
  // a name.
  static std::string cache_key(const frame& fr) {
    std::string key;
    switch (fr.id) {
      case screen_id::vac_level: key = "level"; break;
      case screen_id::vac_list: key = "list"; break;
      default: return key;
    }
    for (const auto& step : fr.path)
      key.append(":").append(std::to_string(step.size())).append(":").append(step);
    return key;
  }

  static std::vector<std::string_view> split(std::string_view text) {
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

  // A choice number as typed: digits only, no sign, no leading zero.
  static std::size_t choice_number(std::string_view token) {
    if (token.empty() || token.size() > 3 || token[0] == '0') return 0;
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
    return ec == std::errc{} && p == token.data() + token.size() ? n : 0;
  }

  const engine_options& opts_;
  const session_facts& facts_;
  menu_cache* cache_;  // null: build every screen
  domain::profile profile_;  // the stored profile plus the answers replayed so far
  std::vector<frame> stack_{frame{}};
};

}  // namespace

engine::engine(engine_options options)
    : options_(std::move(options)),
      cache_(options_.menu_cache_bytes ? std::make_shared<menu_cache>(options_.menu_cache_bytes)
                                       : nullptr) {}

std::size_t engine::cached_screen_bytes() const { return cache_ ? cache_->bytes() : 0; }

std::vector<std::string> engine::navigation_tokens() { return {"0", "00", "98"}; }

reply engine::step(const session_facts& facts, std::string_view text) const {
  replay r(options_, facts, cache_.get());
  return r.run(text);
}

reply engine::outcome_screen(const reply& done, const action_result& result) const {
  using k = action_result::kind;
  const auto& a = result.app;
  auto end = [&](std::string text, std::string where) {
    // An END screen has no notice and no navigation lines: only the screen limit applies.
    return make_reply(true, shorten(std::move(text), max_screen_chars), action::none,
                      std::move(where));
  };
  switch (result.result) {
    case k::created:
      return end("Your CP2 account is being created. Your username and password will arrive by SMS shortly.", "created");
    case k::already_exists:
      return end(fmt::format("You already have a CP2 account; your username is your phone number. "
                             "For a new password, SMS PASSWORD to {}.", options_.shortcode),
                 "already_exists");
    case k::reset_done:
      return end("Your new CP2 password will arrive by SMS shortly. The old one no longer works.", "reset_done");
    case k::reset_limited:
      return end(fmt::format("You have reached the limit of new passwords ({} an hour, {} a day). "
                             "Use the latest one, or try again later.",
                             options_.resets_per_hour, options_.credentials_per_day),
                 "reset_limited");
    case k::no_account:
      return end("This number has no CP2 account. Dial again and choose Create account.", "no_account");
    case k::submitted:
      return end(fmt::format("Application received. Your reference is {}. It is also on its way "
                             "to you by SMS.", a.ref), "applied");
    case k::already_applied:
      return end(fmt::format("You already applied for this vacancy. Your reference is {}.", a.ref),
                 "already_applied");
    case k::conflict:
      return end(fmt::format("You already applied for {} {}: {}, {}. Withdraw it first to apply "
                             "for another.", a.exam, a.activity, a.ref, a.station),
                 "apply_conflict");
    case k::closed:
      return end("This vacancy is not open for applications now.", "apply_closed");
    case k::filled:
      return end("This vacancy has been filled.", "apply_filled");
    case k::incomplete_profile:
      return end("Please complete your profile first: dial again and choose My profile.", "apply_incomplete");
    case k::withdrawn:
      return end(fmt::format("Application {} has been withdrawn.", done.value), "withdrawn");
    case k::cannot_withdraw:
      return end("This application can no longer be withdrawn.", "withdraw_refused");
    case k::busy:
      return end("The service is busy. Please try again in a few minutes.", "busy");
    case k::failed:
      break;
  }
  return end("Sorry, something went wrong. Please try again in a few minutes.", "failed");
}

}  // namespace cp2::ussd
