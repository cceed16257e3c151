#include "agent/istio/yaml_bounds.h"

#include <vector>

namespace meshnode::istio {
namespace {

bool tokenStart(char before) {
  return before == ' ' || before == '\t' || before == '[' || before == '{' || before == ',' ||
         before == '\0';
}

std::string at(const std::string& file, int line, const std::string& why) {
  return file + ":" + std::to_string(line) + ": " + why;
}

}  // namespace

std::optional<std::string> checkYamlBounds(std::string_view text, const std::string& file,
                                           const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    return at(file, 1,
              "the file is " + std::to_string(text.size()) + " bytes, above the limit of " +
                  std::to_string(limits.max_bytes));
  std::vector<size_t> indents;  // open block levels of the current document
  int flow = 0;                 // open [ and { across lines
  int aliases = 0;
  char quote = 0;  // inside a quoted scalar, which may span lines
  size_t block_scalar_indent = std::string_view::npos;  // inside a | or > scalar: its parent
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) continue;  // blank
    if (block_scalar_indent != std::string_view::npos) {
      if (indent > block_scalar_indent) continue;  // literal text, not structure
      block_scalar_indent = std::string_view::npos;
    }
    size_t i = indent;
    int dashes = 0;
    if (!quote && flow == 0) {
      if (line[i] == '#') continue;
      if (line.substr(i, 3) == "---" || line.substr(i, 3) == "...") {
        indents.clear();
        continue;
      }
      while (!indents.empty() && indents.back() > indent)
        indents.pop_back();
      if (indents.empty() || indents.back() < indent) indents.push_back(indent);
      // "- - key: v" opens one level per dash.
      while (i + 1 < line.size() && line[i] == '-' && line[i + 1] == ' ') {
        ++dashes;
        i = line.find_first_not_of(' ', i + 1);
        if (i == std::string_view::npos) i = line.size();
      }
    }
    char last = 0;  // the last significant character outside quotes and comments
    for (; i < line.size(); ++i) {
      char c = line[i];
      char before = i == 0 ? '\0' : line[i - 1];
      if (quote == '\'') {
        if (c == '\'') {
          if (i + 1 < line.size() && line[i + 1] == '\'')
            ++i;
          else
            quote = 0;
        }
        continue;
      }
      if (quote == '"') {
        if (c == '\\')
          ++i;
        else if (c == '"')
          quote = 0;
        continue;
      }
      if (c == '#' && (before == ' ' || before == '\t' || before == '\0')) break;
      if ((c == '\'' || c == '"') && (tokenStart(before) || before == ':' || before == '-')) {
        quote = c;
        continue;
      }
      if (c == '[' || c == '{') {
        ++flow;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      } else if (c == '*' && tokenStart(before) && i + 1 < line.size() && line[i + 1] != ' ' &&
                 line[i + 1] != ',' && line[i + 1] != ']' && line[i + 1] != '}') {
        if (++aliases > limits.max_aliases)
          return at(file, line_no,
                    "more than " + std::to_string(limits.max_aliases) +
                        " alias uses (*name); refused before parsing");
      }
      if (c != ' ' && c != '\t') last = c;
      int depth = static_cast<int>(indents.size()) + dashes + flow;
      if (depth > limits.max_depth)
        return at(file, line_no,
                  "nested deeper than " + std::to_string(limits.max_depth) +
                      " levels; refused before parsing");
    }
    int depth = static_cast<int>(indents.size()) + dashes + flow;
    if (depth > limits.max_depth)
      return at(file, line_no,
                "nested deeper than " + std::to_string(limits.max_depth) +
                    " levels; refused before parsing");
    // "key: |" or "key: >-": the lines below, indented deeper, are text.
    if (!quote && flow == 0 &&
        (last == '|' || last == '>' || last == '-' || last == '+' ||
         (last >= '1' && last <= '9'))) {
      size_t bar = line.find_last_of("|>");
      if (bar != std::string_view::npos && (bar == 0 || line[bar - 1] == ' ')) {
        std::string_view tail = line.substr(bar + 1);
        size_t comment = tail.find(" #");
        if (comment != std::string_view::npos) tail = tail.substr(0, comment);
        bool modifiers = tail.find_first_not_of("+-123456789 ") == std::string_view::npos;
        if (modifiers) block_scalar_indent = indent;
      }
    }
  }
  return std::nullopt;
}

}  // namespace meshnode::istio
