// Strings, numbers and money in the user's language: Bahasa Indonesia first, English second.
// Every visible string comes from i18n/<lang>.json; elements carry data-i18n (text),
// data-i18n-label (aria-label) or data-i18n-title, and apply() refreshes them after a switch.

const LANGS = ['id', 'en'];
let lang = 'id';
let dict = {};
const listeners = new Set();

export function language() {
  return lang;
}

export async function setLanguage(next) {
  lang = LANGS.includes(next) ? next : 'id';
  // Beside this module's folder, wherever the build puts the assets (a content-hashed path).
  const res = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
  dict = await res.json();
  document.documentElement.lang = lang;
  try {
    localStorage.setItem('sigap.lang', lang);
  } catch {
    // Private browsing may refuse storage; the choice then lasts for this page only.
  }
  apply(document);
  for (const fn of listeners) fn(lang);
}

export function initialLanguage() {
  const fromQuery = new URLSearchParams(location.search).get('lang');
  let stored = null;
  try {
    stored = localStorage.getItem('sigap.lang');
  } catch {
    stored = null;
  }
  return fromQuery || stored || 'id';
}

export function onLanguage(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The string for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const s = dict[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? '')) : s;
}

/** A vocabulary label (`program.ukm`), falling back to the raw id for values we do not know. */
export function label(prefix, id) {
  const k = `${prefix}.${id}`;
  return k in dict ? dict[k] : String(id ?? '');
}

export function has(key) {
  return key in dict;
}

export function apply(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

// Numbers always in Indonesian format (1.250.000; 12,5), whatever the interface language: the
// program's documents and the officials' spreadsheets use it.
const num = new Intl.NumberFormat('id-ID', { maximumFractionDigits: 1 });
const int = new Intl.NumberFormat('id-ID', { maximumFractionDigits: 0 });

export function fmtNum(v, digits) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) return t('common.none');
  if (digits !== undefined) return new Intl.NumberFormat('id-ID', { maximumFractionDigits: digits }).format(Number(v));
  return Number.isInteger(Number(v)) ? int.format(Number(v)) : num.format(Number(v));
}

/** Money as "Rp 1.250.000". */
export function fmtIdr(v) {
  if (v === null || v === undefined || v === '') return t('common.none');
  return `Rp ${int.format(Math.round(Number(v)))}`;
}

export function fmtDate(v) {
  if (!v) return t('common.none');
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'id-ID', { dateStyle: 'medium' }).format(d);
}
