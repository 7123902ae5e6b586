// "Ikuti": follow a proposal by email, without an account. The server sends a confirmation mail
// first (double opt-in) and answers the same whether or not the address already follows.
import { post } from './api.js';
import { field, h } from './dom.js';
import { language, t } from './i18n.js';

/** Statuses after which nothing more happens: there is nothing left to follow. */
export const FINAL_STATUSES = ['ditolak', 'digabung', 'selesai'];

/** The follow form for the proposal with tracking code `code`. */
export function followForm(code) {
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', inputmode: 'email', required: true, maxlength: '254', 'aria-describedby': 'follow-privacy' });
  const lang = h('select', { name: 'lang' }, h('option', { value: 'id' }, 'Bahasa Indonesia'), h('option', { value: 'en' }, 'English'));
  lang.value = language() === 'en' ? 'en' : 'id';
  const msg = h('p', { role: 'status', id: 'follow-msg' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'follow-btn' }, t('follow.go'));
  const form = h('form', { class: 'follow', id: 'follow-form', novalidate: true },
    h('h3', {}, t('follow.heading')),
    h('p', { class: 'muted' }, t('follow.intro')),
    ...field(t('follow.email'), email), ...field(t('follow.lang'), lang),
    h('div', { class: 'row' }, btn), msg,
    h('p', { class: 'muted', id: 'follow-privacy' }, t('follow.privacy')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    msg.className = '';
    email.removeAttribute('aria-invalid');
    btn.disabled = true;
    try {
      const r = await post(`/api/proposals/${encodeURIComponent(code)}/followers`, { email: email.value.trim(), lang: lang.value });
      msg.textContent = r?.message || t('follow.sent');
      msg.className = 'ok';
      email.value = '';
    } catch (e) {
      msg.textContent = e.message;
      msg.className = 'error';
      if ((e.problem?.errors || []).some((fe) => fe.field === 'email')) {
        email.setAttribute('aria-invalid', 'true');
        email.focus();
      }
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}
