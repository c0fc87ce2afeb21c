#pragma once
// Laying out one USSD screen: a title, numbered choices, paging and the navigation lines,
// within 182 characters (SPEC 3.1, 7).

#include <cstddef>
#include <string>
#include <vector>

namespace cp2::ussd {

/// The most characters after "CON " / "END " that a screen may have.
inline constexpr std::size_t max_screen_chars = 182;

/// Room kept free on every page for a one-line notice such as "Invalid choice.", so that a
/// page shows the same choices with or without one.
inline constexpr std::size_t notice_room = 24;

/// `text` cut to at most `most` bytes (at least 2), ending in ".." when cut. The cut never falls
/// inside a UTF-8 character, so GSM-7 text stays GSM-7.
std::string shorten(std::string text, std::size_t most);

/// One page of a menu as laid out.
struct page_layout {
  std::size_t first = 0;  ///< index of the first choice on this page
  std::size_t count = 0;  ///< choices on this page, numbered 1..count
  bool more = false;      ///< a later page exists ("98. More")
};

/// Splits `labels` into pages so that `title`, the choices of a page numbered from 1, "98. More"
/// when needed and, when `nav` is set, "0. Back" and "00. Main menu" fit in the screen with
/// notice_room to spare. A label too long for any page is cut with "..".
std::vector<page_layout> paginate(const std::string& title, std::vector<std::string>& labels,
                                  bool nav);

/// The text of page `p` of a paginated menu, with `notice` (may be empty) as its first line.
std::string render_page(const std::string& notice, const std::string& title,
                        const std::vector<std::string>& labels, const page_layout& p, bool nav);

}  // namespace cp2::ussd
