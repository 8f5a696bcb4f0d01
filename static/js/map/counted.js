// A count with its noun in the page's language: "1 incident", "2 incidents", and in French
// "0 incident", "1 incident", "2 incidents" (the language's plural rules, from Intl).
const rules = new Intl.PluralRules(document.documentElement.lang || "en");

export function counted(count, one, other) {
  return `${count.toLocaleString()} ${rules.select(count) === "one" ? one : other}`;
}
