#include "ussd/screen.hpp"

#include <fmt/format.h>

namespace cp2::ussd {
namespace {

constexpr std::string_view more_line = "98. More";
constexpr std::string_view nav_lines = "0. Back\n00. Main menu";

// The length of "\n{number}. {label}", counted rather than formatted: paginate measures every
// label of a list at every step that replays it.
std::size_t choice_chars(std::size_t number, const std::string& label) {
  std::size_t digits = 1;
  for (std::size_t n = number; n >= 10; n /= 10) ++digits;
  return 1 + digits + 2 + label.size();
}

}  // namespace

std::string shorten(std::string text, std::size_t most) {
  if (text.size() <= most) return text;
  std::size_t cut = most - 2;
  // Back to the lead byte: a continuation byte (10xxxxxx) is the middle of a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "..";
}

std::vector<page_layout> paginate(const std::string& title, std::vector<std::string>& labels,
                                  bool nav) {
  const std::size_t budget = max_screen_chars - notice_room;
  const std::size_t fixed = title.size() + (nav ? 1 + nav_lines.size() : 0);
  const std::size_t with_more = fixed + 1 + more_line.size();
  // A single label must fit on a page of its own that also has "98. More".
  const std::size_t max_label = budget > with_more + 5 ? budget - with_more - 5 : 10;
  for (auto& l : labels)
    l = shorten(std::move(l), max_label);

  std::vector<page_layout> pages;
  std::size_t i = 0;
  do {
    page_layout p;
    p.first = i;
    std::size_t used = fixed;
    while (i < labels.size()) {
      std::size_t add = choice_chars(p.count + 1, labels[i]);
      bool last = i + 1 == labels.size();
      std::size_t needed = used + add + (last ? 0 : 1 + more_line.size());
      if (needed > budget && p.count > 0) break;
      used += add;
      ++p.count;
      ++i;
    }
    p.more = i < labels.size();
    pages.push_back(p);
  } while (i < labels.size());
  return pages;
}

std::string render_page(const std::string& notice, const std::string& title,
                        const std::vector<std::string>& labels, const page_layout& p, bool nav) {
  std::string out;
  if (!notice.empty()) out += notice + "\n";
  out += title;
  for (std::size_t k = 0; k < p.count; ++k) out += fmt::format("\n{}. {}", k + 1, labels[p.first + k]);
  if (p.more) out.append("\n").append(more_line);
  if (nav) out.append("\n").append(nav_lines);
  return out;
}

}  // namespace cp2::ussd
